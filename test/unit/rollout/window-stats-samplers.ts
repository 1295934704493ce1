/** Latency distributions for the window statistics tests, driven by a seeded random source. */
export type Sampler = (random: () => number) => number;

export function uniform(minMs: number, maxMs: number): Sampler {
  return (random) => minMs + random() * (maxMs - minMs);
}

/** exp(N(mu, sigma)) by Box-Muller. */
export function logNormal(mu: number, sigma: number): Sampler {
  return (random) => {
    const u = 1 - random();
    const v = random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.exp(mu + sigma * normal);
  };
}

/** Mostly fast around `fastMs`, a `slowShare` of slow ones around `slowMs` (±20%). */
export function bimodal(fastMs: number, slowMs: number, slowShare: number): Sampler {
  return (random) => {
    const centre = random() < slowShare ? slowMs : fastMs;
    return centre * (0.8 + 0.4 * random());
  };
}

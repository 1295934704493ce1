/** A seeded PRNG (mulberry32) so statistical routing tests are deterministic. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `count` distinct-looking random sticky keys (hex strings of varying length). */
export function randomKeys(count: number, random: () => number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = 8 + Math.floor(random() * 30);
    let key = "";
    while (key.length < length) key += Math.floor(random() * 16).toString(16);
    keys.push(key);
  }
  return keys;
}

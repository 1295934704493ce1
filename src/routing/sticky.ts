/**
 * Sticky layout (SPEC 3.3): which upstream a sticky key lands on for a given split.
 *
 * Scheme: weighted rendezvous hashing. Every (key, upstream) pair gets an independent uniform
 * u in (0, 1) from the key's hash and the upstream's name; the upstream's score is
 * `weightBp / -ln(u)`, and the highest score wins. Over random keys upstream i wins with
 * probability exactly weight_i / total (the exponential race), so shares match the split.
 *
 * Why not consecutive bucket ranges in split order: with three upstreams, raising the middle
 * one shifts the range of the last one, so clients move between two upstreams whose weights
 * did not go up. Rendezvous scores depend only on the key, the upstream's own name and its own
 * weight, which gives:
 * - raising U's weight (others fall or stay) never moves a client away from U, because only
 *   U's score rises;
 * - a client moves from X to Y only if Y's weight grew by a larger factor than X's; with two
 *   upstreams (every rollout) that means clients move only to the upstream that was raised;
 *   with more, when U rises and the others keep their proportions, clients move only to U;
 * - split order is irrelevant, and an upstream added to or removed from a split moves only its
 *   own clients.
 * With three or more upstreams no layout with exact shares can also promise "clients move only
 * to U" when the others fall by different factors: that would force each upstream's set of
 * clients to depend on its own weight alone, and the sets of B at 50% and C at 50% would then
 * both be the complement of A's set at 50%, so they could not be disjoint.
 *
 * The SPEC's 0..9999 buckets remain for random picks (`CompiledSplit.pickByBucket`); a sticky
 * key uses its full 32-bit hash, which is finer than buckets.
 */
import { mix32 } from "./hash.ts";

/** 2^-32: maps a 32-bit hash to the open interval (0, 1) with `(h + 0.5) * UNIT`. */
const UNIT = 1 / 4_294_967_296;

/**
 * The index of the winning upstream for a key hash, or -1 when every weight is 0.
 * `seeds[i]` is `hashKey(name_i)`; ties (vanishingly rare) go to the lower index.
 */
export function pickRendezvous(
  keyHash: number,
  seeds: Uint32Array,
  weightsBp: Uint32Array,
): number {
  let bestIndex = -1;
  let bestScore = 0;
  for (let i = 0; i < weightsBp.length; i++) {
    const weightBp = weightsBp[i] ?? 0;
    if (weightBp === 0) continue;
    const u = (mix32((keyHash ^ (seeds[i] ?? 0)) >>> 0) + 0.5) * UNIT;
    const score = weightBp / -Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      bestIndex = i;
    }
  }
  return bestIndex;
}

/** The Set-Cookie value for a newly created sticky id. */
export function formatStickyCookie(name: string, id: string): string {
  return `${name}=${id}; Path=/; HttpOnly; SameSite=Lax`;
}

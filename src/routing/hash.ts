/**
 * Small, stable, non-cryptographic hashes for sticky routing. Stable means the same input gives
 * the same number on every machine and every release: changing these functions would move
 * every sticky client at once, so golden values are pinned in the tests.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a (32 bit) over the string's UTF-16 code units (for ASCII this equals FNV-1a over the
 * bytes). Hashes `text[start..end)` so a value inside a larger header needs no substring.
 */
export function fnv1a32(text: string, start = 0, end = text.length): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = start; i < end; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * murmur3's 32-bit finaliser: a bijection with full avalanche. FNV-1a alone spreads its low
 * bits poorly for short, similar keys; this fixes that and derives independent-looking
 * per-upstream hashes from one key hash.
 */
export function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The well-distributed 32-bit hash of a sticky key (or of a range of a larger string). */
export function hashKey(text: string, start = 0, end = text.length): number {
  return mix32(fnv1a32(text, start, end));
}

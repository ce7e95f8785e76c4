/**
 * Small deterministic 32-bit hashes for the simulator's checks: a chain hash over a log prefix
 * (equal chain hash at (index, term) ⇔ equal prefixes, up to collisions) and a state-machine
 * hash over the applied sequence.
 */
export function bytesHash(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function mix(prev: number, term: bigint, dataHash: number): number {
  let h = Math.imul(prev ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ Number(term & 0xffffffffn), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ dataHash, 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

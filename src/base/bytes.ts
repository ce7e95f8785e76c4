/**
 * Byte-string helpers. Keys in etcd are arbitrary bytes ordered lexicographically by unsigned
 * byte value (Go's bytes.Compare), which is what Buffer.compare does.
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The smallest key greater than every key with the given prefix (etcd clientv3 GetPrefixRangeEnd):
 * increment the last byte that is not 0xff and drop what follows. A prefix of only 0xff bytes
 * (or an empty prefix) has no end: etcd then uses "\0", meaning "to the end of the keyspace".
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if ((prefix[i] as number) < 0xff) {
      // A copy, never a view: Buffer#slice shares memory with the key it came from.
      const end = new Uint8Array(prefix.subarray(0, i + 1));
      end[i] = (end[i] as number) + 1;
      return end;
    }
  }
  return Uint8Array.of(0);
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

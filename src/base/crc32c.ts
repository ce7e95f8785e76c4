/**
 * CRC-32C (Castagnoli polynomial, reflected 0x82F63B78), as Go's crc32.MakeTable(crc32.Castagnoli):
 * etcd hashes the MVCC key space (HashKV) and snapshot files (`snapshot status`) with it.
 * Incremental: `update` the running value, `crc32c` for one buffer.
 */
const table = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Continues a CRC-32C over `data` from the checksum `crc` (0 to start). */
export function crc32cUpdate(crc: number, data: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = (table[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32c(data: Uint8Array): number {
  return crc32cUpdate(0, data);
}

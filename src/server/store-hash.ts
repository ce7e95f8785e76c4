/**
 * Maintenance.Hash (etcd mvcc store.Hash → backend.Hash(DefaultIgnores)): a CRC-32C over the
 * whole state machine — every record of every kind, keys then values, in key order, read from
 * one database snapshot — leaving out what differs between members of one cluster by design
 * (etcd ignores meta's consistent_index and term; here also this member's id and its
 * joined-existing mark). Members that applied the same entries hash the same; the number is
 * not etcd's (the stores' layouts differ), which clients do not compare across servers.
 */
import { crc32cUpdate } from '../base/crc32c.js';
import type { KvStore } from '../mvcc/kv-store.js';
import type { Backend } from '../storage/backend.js';
import { metaKey } from '../storage/schema.js';
import { stateRecords } from './snapshot.js';

const memberLocal = [metaKey.consistentIndex, metaKey.consistentTerm, metaKey.memberId, metaKey.joinExisting];

export async function hashStore(kv: KvStore, backend: Backend): Promise<{ hash: number; revision: bigint }> {
  await backend.drain();
  const revision = kv.rev();
  let h = 0;
  for await (const [k, v] of stateRecords(backend)) {
    if (memberLocal.some((m) => m.equals(k))) continue;
    h = crc32cUpdate(h, k);
    h = crc32cUpdate(h, v);
  }
  return { hash: h >>> 0, revision };
}

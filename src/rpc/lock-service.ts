/**
 * v3lockpb.Lock (etcd v3lock/lock.go over clientv3/concurrency mutex.go).
 *
 * Lock puts `<name>/<lease %x>` with the lease (a fresh 60 s lease, never kept alive, for
 * lease 0 — etcd's orphaned session), or reuses that key if it exists; the lock is held once
 * every key under `<name>/` created before it is gone. It answers the key, with the header of
 * its txn (uncontended) or of the last read that found no predecessor. A caller that goes away
 * while waiting has its key deleted. Unlock is a plain delete of the key (`etcdserver: key is
 * not provided` for an empty one). Errors are gRPC Unknown with etcd's text (concurrency.ts).
 */
import { toDomain, toWire } from '../api/convert.js';
import type { KeyValue } from '../api/kv-types.js';
import { emptyRangeRequest } from '../api/kv-types.js';
import { asPlain, byCreate, createRevIs, getOp, goHex, putOp, rangeOf, sessionLease, waitDeletes, type Cancel, type ConcurrencyServer } from './concurrency.js';
import { checkDelete } from './kv-checks.js';
import { unary, type ServiceImpl } from './unary.js';

export async function lock(server: ConcurrencyServer, name: Buffer, leaseIn: bigint, cancel: Cancel): Promise<{ revision: bigint; key: Buffer }> {
  const lease = await sessionLease(server, leaseIn);
  const prefix = Buffer.concat([name, Buffer.from('/')]);
  const key = Buffer.concat([prefix, Buffer.from(goHex(lease))]);
  const owner = getOp(byCreate(prefix, 'first'));
  const r = await server.txn({
    compare: [createRevIs(key, 0n)],
    success: [putOp(key, Buffer.alloc(0), lease), owner],
    failure: [getOp(emptyRangeRequest(key)), owner],
  });
  const myRev = r.succeeded ? r.header.revision : (rangeOf(r, 0)[0] as KeyValue).create_revision;
  const first = rangeOf(r, 1)[0];
  if (first === undefined || first.create_revision === myRev) return { revision: r.header.revision, key };
  try {
    const h = await waitDeletes(server, prefix, myRev - 1n, cancel);
    return { revision: h.revision, key };
  } catch (e) {
    await unlock(server, key).catch(() => undefined);
    throw e;
  }
}

function unlock(server: ConcurrencyServer, key: Buffer): Promise<{ header: { revision: bigint } }> {
  const req = { key, range_end: Buffer.alloc(0), prev_kv: false };
  checkDelete(req);
  return server.deleteRange(req);
}

export function lockHandlers(server: ConcurrencyServer): ServiceImpl {
  return {
    Lock: unary(async (wire, ctx) => {
      try {
        const req = toDomain<{ name: Buffer; lease: bigint }>('v3lockpb.LockRequest', wire);
        const r = await lock(server, req.name, req.lease, ctx);
        return toWire('v3lockpb.LockResponse', { header: server.header(r.revision), key: r.key });
      } catch (e) {
        throw asPlain(e);
      }
    }),
    Unlock: unary(async (wire) => {
      try {
        const req = toDomain<{ key: Buffer }>('v3lockpb.UnlockRequest', wire);
        const r = await unlock(server, req.key);
        return toWire('v3lockpb.UnlockResponse', { header: server.header(r.header.revision) });
      } catch (e) {
        throw asPlain(e);
      }
    }),
  };
}

/**
 * v3electionpb.Election (etcd v3election/election.go over clientv3/concurrency election.go):
 * Campaign, Proclaim, Leader, Resign, and Observe as a server stream.
 *
 * - Campaign puts `<name>/<lease %x>` (or finds it, proclaiming the new value if it differs),
 *   then waits until every key of the election created before it is gone; it answers the
 *   leader key {name, key, rev = its create revision, lease} with the header of its first txn.
 *   A caller that goes away while waiting has its key deleted (etcd resigns it).
 * - Proclaim and Resign act only if the key still has the given create revision: Proclaim
 *   fails `election: not leader` otherwise, Resign just answers (etcd's Resign never fails
 *   for that). Both need `leader` (`"leader" field must be provided`). Like etcd, a leader key
 *   given with lease 0 makes a new session lease (granted, never kept alive).
 * - Leader answers the key with the lowest create revision (`election: no leader` if none).
 * - Observe sends the leader, then every change of its value, then the next leader once its key
 *   is deleted; with no leader it waits for the first put under the prefix. It ends (OK) when
 *   its watch is canceled; a client that goes away ends it.
 *
 * Every error is gRPC Unknown with etcd's text (concurrency.ts).
 */
import { toDomain, toWire } from '../api/convert.js';
import { EventType, type KeyValue } from '../api/kv-types.js';
import { prefixEnd } from '../base/bytes.js';
import {
  ElectionErrors,
  asPlain,
  byCreate,
  createRevIs,
  deleteOp,
  getOp,
  goHex,
  plainError,
  putOp,
  rangeOf,
  sessionLease,
  waitDeletes,
  watchKey,
  type Cancel,
  type ConcurrencyServer,
} from './concurrency.js';
import type { StreamCall } from './h2/grpc-server.js';
import { decodeRequest, unary, type ServiceImpl } from './unary.js';
import { encodeGeneric } from '../api/generic-codec.js';
import { emptyRangeRequest } from '../api/kv-types.js';

interface LeaderKey {
  name: Buffer;
  key: Buffer;
  rev: bigint;
  lease: bigint;
}

function electionPrefix(name: Buffer): Buffer {
  return Buffer.concat([name, Buffer.from('/')]);
}

/** concurrency Election.Proclaim on a resumed election. */
async function proclaim(server: ConcurrencyServer, key: Buffer, rev: bigint, lease: bigint, value: Buffer): Promise<bigint> {
  const r = await server.txn({ compare: [createRevIs(key, rev)], success: [putOp(key, value, lease)], failure: [] });
  if (!r.succeeded) throw plainError(ElectionErrors.NotLeader);
  return r.header.revision;
}

/** concurrency Election.Resign: delete the key if it is still ours. */
async function resign(server: ConcurrencyServer, key: Buffer, rev: bigint): Promise<bigint> {
  const r = await server.txn({ compare: [createRevIs(key, rev)], success: [deleteOp(key)], failure: [] });
  return r.header.revision;
}

export async function campaign(server: ConcurrencyServer, name: Buffer, leaseIn: bigint, value: Buffer, cancel: Cancel): Promise<{ revision: bigint; leader: LeaderKey }> {
  const lease = await sessionLease(server, leaseIn);
  const prefix = electionPrefix(name);
  const key = Buffer.concat([prefix, Buffer.from(goHex(lease))]);
  const r = await server.txn({
    compare: [createRevIs(key, 0n)],
    success: [putOp(key, value, lease)],
    failure: [getOp(emptyRangeRequest(key))],
  });
  let rev = r.header.revision;
  if (!r.succeeded) {
    const kv = rangeOf(r, 0)[0] as KeyValue;
    rev = kv.create_revision;
    if (!kv.value.equals(value)) {
      try {
        await proclaim(server, key, rev, lease, value);
      } catch (e) {
        await resign(server, key, rev).catch(() => undefined);
        throw e;
      }
    }
  }
  try {
    await waitDeletes(server, prefix, rev - 1n, cancel);
  } catch (e) {
    if (cancel.cancelled) await resign(server, key, rev).catch(() => undefined);
    throw e;
  }
  return { revision: r.header.revision, leader: { name, key, rev, lease } };
}

export function electionHandlers(server: ConcurrencyServer): ServiceImpl {
  const plain = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      throw asPlain(e);
    }
  };
  const leaderKeyOf = (wire: Record<string, unknown>, type: string): LeaderKey => {
    const req = toDomain<{ leader: LeaderKey | null }>(type, wire);
    if (!req.leader) throw plainError(ElectionErrors.MissingLeaderKey);
    return req.leader;
  };
  return {
    Campaign: unary((wire, ctx) =>
      plain(async () => {
        const req = toDomain<{ name: Buffer; lease: bigint; value: Buffer }>('v3electionpb.CampaignRequest', wire);
        const r = await campaign(server, req.name, req.lease, req.value, ctx);
        return toWire('v3electionpb.CampaignResponse', { header: server.header(r.revision), leader: r.leader });
      }),
    ),
    Proclaim: unary((wire) =>
      plain(async () => {
        const l = leaderKeyOf(wire, 'v3electionpb.ProclaimRequest');
        const value = toDomain<{ value: Buffer }>('v3electionpb.ProclaimRequest', wire).value;
        const lease = await sessionLease(server, l.lease);
        const rev = await proclaim(server, l.key, l.rev, lease, value);
        return toWire('v3electionpb.ProclaimResponse', { header: server.header(rev) });
      }),
    ),
    Resign: unary((wire) =>
      plain(async () => {
        const l = leaderKeyOf(wire, 'v3electionpb.ResignRequest');
        await sessionLease(server, l.lease);
        const rev = await resign(server, l.key, l.rev);
        return toWire('v3electionpb.ResignResponse', { header: server.header(rev) });
      }),
    ),
    Leader: unary((wire) =>
      plain(async () => {
        const req = toDomain<{ name: Buffer }>('v3electionpb.LeaderRequest', wire);
        const r = await server.range(byCreate(electionPrefix(req.name), 'first'));
        const kv = r.kvs[0];
        if (kv === undefined) throw plainError(ElectionErrors.NoLeader);
        return toWire('v3electionpb.LeaderResponse', { header: server.header(r.header.revision), kv });
      }),
    ),
    Observe: {
      kind: 'serverStream',
      handler: (bytes, call) => {
        const req = toDomain<{ name: Buffer }>('v3electionpb.LeaderRequest', decodeRequest('v3electionpb.LeaderRequest', bytes));
        void observe(server, electionPrefix(req.name), call).then(() => call.end());
      },
    },
  };
}

/**
 * concurrency Election.observe feeding the stream. Returns when the call is cancelled or a
 * watch ends (etcd closes its channel and the service returns OK).
 */
async function observe(server: ConcurrencyServer, prefix: Buffer, call: StreamCall): Promise<void> {
  const send = (rev: bigint, kv: KeyValue): void => {
    call.write(encodeGeneric('v3electionpb.LeaderResponse', toWire('v3electionpb.LeaderResponse', { header: server.header(rev), kv })));
  };
  try {
    while (!call.cancelled && !call.ended) {
      const r = await server.range(byCreate(prefix, 'first'));
      let kv = r.kvs[0];
      let rev = r.header.revision;
      if (kv === undefined) {
        // No leader yet: the first put under the prefix (a delete would make etcd spin).
        await watchKey(server, prefix, Buffer.from(prefixEnd(prefix)), r.header.revision, call, (evs) => {
          const put = evs.find((e) => e.type === EventType.PUT);
          if (put === undefined) return false;
          kv = put.kv;
          rev = put.kv.mod_revision;
          return true;
        });
      }
      const leader = kv as KeyValue;
      send(rev, leader);
      await watchKey(server, leader.key, null, rev + 1n, call, (evs, wrev) => {
        for (const e of evs) {
          if (e.type === EventType.DELETE) return true;
          send(wrev, e.kv);
        }
        return false;
      });
    }
  } catch {
    // A canceled watch or a failed read ends the stream with OK, as etcd's closed channel does.
  }
}

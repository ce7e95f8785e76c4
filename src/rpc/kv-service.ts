/**
 * etcdserverpb.KV: check the request (kv-checks.ts), run it on the server, fill the header as
 * etcd's header.fill does (cluster id, member id, raft term; revision if the handler left 0).
 */
import type * as grpc from '@grpc/grpc-js';
import { toDomain, toWire } from '../api/convert.js';
import { EtcdError, Errors } from '../api/errors.js';
import type {
  CompactionRequest,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  TxnRequest,
} from '../api/kv-types.js';
import type { EtcdServer } from '../server/etcd-server.js';
import { checkDelete, checkPut, checkRange, checkTxn } from './kv-checks.js';
import { unary, type UnaryHandler } from './unary.js';

export function kvHandlers(server: EtcdServer, onUnknown: (e: unknown) => void): Record<string, UnaryHandler> {
  const u = <Req, Resp extends { header: { revision: bigint } }>(
    reqType: string,
    respType: string,
    run: (req: Req) => Promise<Resp>,
  ): UnaryHandler =>
    unary(async (wire, call) => {
      // etcd's interceptor: a client that asks for a leader (metadata hasleader=true, as
      // clientv3.WithRequireLeader) fails at once with "no leader" instead of waiting.
      if (call.metadata.get('hasleader')[0] === 'true' && server.leader() === 0n) throw new EtcdError(Errors.NoLeader);
      const resp = await run(toDomain<Req>(reqType, wire));
      return toWire(respType, { ...resp, header: server.header(resp.header.revision) });
    }, onUnknown);
  return {
    Range: u<RangeRequest, Awaited<ReturnType<EtcdServer['range']>>>('etcdserverpb.RangeRequest', 'etcdserverpb.RangeResponse', (r) => {
      checkRange(r);
      return server.range(r);
    }),
    Put: u<PutRequest, Awaited<ReturnType<EtcdServer['put']>>>('etcdserverpb.PutRequest', 'etcdserverpb.PutResponse', (r) => {
      checkPut(r);
      return server.put(r);
    }),
    DeleteRange: u<DeleteRangeRequest, Awaited<ReturnType<EtcdServer['deleteRange']>>>(
      'etcdserverpb.DeleteRangeRequest',
      'etcdserverpb.DeleteRangeResponse',
      (r) => {
        checkDelete(r);
        return server.deleteRange(r);
      },
    ),
    Txn: u<TxnRequest, Awaited<ReturnType<EtcdServer['txn']>>>('etcdserverpb.TxnRequest', 'etcdserverpb.TxnResponse', (r) => {
      checkTxn(r, server.opts.maxTxnOps);
      return server.txn(r);
    }),
    Compact: u<CompactionRequest, Awaited<ReturnType<EtcdServer['compact']>>>(
      'etcdserverpb.CompactionRequest',
      'etcdserverpb.CompactionResponse',
      (r) => server.compact(r),
    ),
  };
}

export type { grpc };

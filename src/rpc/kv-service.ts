/**
 * etcdserverpb.KV: check the request (kv-checks.ts), run it on the server, fill the header as
 * etcd's header.fill does (cluster id, member id, raft term; revision if the handler left 0).
 */
import { toDomain, toWire } from '../api/convert.js';
import { EtcdError, Errors } from '../api/errors.js';
import type { CompactionRequest, DeleteRangeRequest, PutRequest, RangeRequest, TxnRequest } from '../api/kv-types.js';
import type { EtcdServer } from '../server/etcd-server.js';
import type { CallContext } from './h2/grpc-server.js';
import { checkDelete, checkPut, checkRange, checkTxn } from './kv-checks.js';
import { refuseLearner } from './learner-guard.js';
import { unary, type ServiceImpl } from './unary.js';

/** etcd's interceptor: a client that asks for a leader (metadata hasleader=true, as
 *  clientv3.WithRequireLeader) fails at once with "no leader" instead of waiting. */
export function requireLeader(server: Pick<EtcdServer, 'leader'>, ctx: CallContext): void {
  if (ctx.metadata.get('hasleader') === 'true' && server.leader() === 0n) throw new EtcdError(Errors.NoLeader);
}

export function kvHandlers(server: EtcdServer): ServiceImpl {
  const u = <Req, Resp extends { header: { revision: bigint } }>(reqType: string, respType: string, run: (req: Req) => Promise<Resp>, learnerOk?: (req: Req) => boolean) =>
    unary(async (wire, ctx) => {
      const req = toDomain<Req>(reqType, wire);
      // etcd's interceptor order: the learner check, then hasleader.
      if (!learnerOk?.(req)) refuseLearner(server);
      requireLeader(server, ctx);
      const resp = await run(req);
      return toWire(respType, { ...resp, header: server.header(resp.header.revision) });
    });
  return {
    Range: u<RangeRequest, Awaited<ReturnType<EtcdServer['range']>>>(
      'etcdserverpb.RangeRequest',
      'etcdserverpb.RangeResponse',
      (r) => {
        checkRange(r);
        return server.range(r);
      },
      (r) => r.serializable,
    ),
    Put: u<PutRequest, Awaited<ReturnType<EtcdServer['put']>>>('etcdserverpb.PutRequest', 'etcdserverpb.PutResponse', (r) => {
      checkPut(r);
      return server.put(r);
    }),
    DeleteRange: u<DeleteRangeRequest, Awaited<ReturnType<EtcdServer['deleteRange']>>>('etcdserverpb.DeleteRangeRequest', 'etcdserverpb.DeleteRangeResponse', (r) => {
      checkDelete(r);
      return server.deleteRange(r);
    }),
    Txn: u<TxnRequest, Awaited<ReturnType<EtcdServer['txn']>>>('etcdserverpb.TxnRequest', 'etcdserverpb.TxnResponse', (r) => {
      checkTxn(r, server.opts.maxTxnOps);
      return server.txn(r);
    }),
    Compact: u<CompactionRequest, Awaited<ReturnType<EtcdServer['compact']>>>('etcdserverpb.CompactionRequest', 'etcdserverpb.CompactionResponse', (r) => server.compact(r)),
  };
}

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
import { gateHost } from './auth-service.js';
import type { AuthInfo } from '../server/auth-gate.js';
import { unary, type ServiceImpl } from './unary.js';

/** etcd's interceptor: a client that asks for a leader (metadata hasleader=true, as
 *  clientv3.WithRequireLeader) fails at once with "no leader" instead of waiting. */
export function requireLeader(server: Pick<EtcdServer, 'leader'>, ctx: CallContext): void {
  if (ctx.metadata.get('hasleader') === 'true' && server.leader() === 0n) throw new EtcdError(Errors.NoLeader);
}

export function kvHandlers(server: EtcdServer): ServiceImpl {
  const host = gateHost(server);
  const u = <Req, Resp extends { header: { revision: bigint } }>(reqType: string, respType: string, run: (req: Req, who: AuthInfo | undefined) => Promise<Resp>, learnerOk?: (req: Req) => boolean) =>
    unary(async (wire, ctx) => {
      const req = toDomain<Req>(reqType, wire);
      // etcd's interceptor order: the learner check, then hasleader.
      if (!learnerOk?.(req)) refuseLearner(server);
      requireLeader(server, ctx);
      // Auth hook (server/auth-gate.ts): who the call runs as; reads are checked here, writes
      // carry it into their entry and are checked at apply.
      const found = server.auth.info(ctx, host);
      const who = (found instanceof Promise ? await found : found) ?? undefined;
      const resp = await run(req, who);
      return toWire(respType, { ...resp, header: server.header(resp.header.revision) });
    });
  return {
    Range: u<RangeRequest, Awaited<ReturnType<EtcdServer['range']>>>(
      'etcdserverpb.RangeRequest',
      'etcdserverpb.RangeResponse',
      async (r, who) => {
        checkRange(r);
        server.auth.checkRange(who ?? null, r.key, r.range_end);
        const resp = await server.range(r);
        server.auth.checkStillCurrent(who ?? null);
        return resp;
      },
      (r) => r.serializable,
    ),
    Put: u<PutRequest, Awaited<ReturnType<EtcdServer['put']>>>('etcdserverpb.PutRequest', 'etcdserverpb.PutResponse', (r, who) => {
      checkPut(r);
      return server.put(r, who);
    }),
    DeleteRange: u<DeleteRangeRequest, Awaited<ReturnType<EtcdServer['deleteRange']>>>('etcdserverpb.DeleteRangeRequest', 'etcdserverpb.DeleteRangeResponse', (r, who) => {
      checkDelete(r);
      return server.deleteRange(r, who);
    }),
    Txn: u<TxnRequest, Awaited<ReturnType<EtcdServer['txn']>>>('etcdserverpb.TxnRequest', 'etcdserverpb.TxnResponse', (r, who) => {
      checkTxn(r, server.opts.maxTxnOps);
      return server.txn(r, who);
    }),
    Compact: u<CompactionRequest, Awaited<ReturnType<EtcdServer['compact']>>>('etcdserverpb.CompactionRequest', 'etcdserverpb.CompactionResponse', (r, who) => server.compact(r, who)),
  };
}

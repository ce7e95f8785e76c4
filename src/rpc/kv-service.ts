/**
 * etcdserverpb.KV: decode the request (by hand, api/kv-wire.ts), check it (kv-checks.ts) as
 * etcd's v3rpc interceptors and key.go do, run it on the server, fill the header as etcd's
 * header.fill does (cluster id, member id, raft term; revision if the handler left 0) and
 * encode the response by hand. Writes hand the request's own bytes to the server, which puts
 * them into the Raft entry as they are. Compact is rare and goes the generic way.
 */
import { toDomain, toWire } from '../api/convert.js';
import { EtcdError, Errors, GrpcCode, GrpcError } from '../api/errors.js';
import type { CompactionRequest } from '../api/kv-types.js';
import {
  PbDecodeError,
  decodeDeleteRangeRequest,
  decodePutRequest,
  decodeRangeRequest,
  decodeTxnRequest,
  encodeDeleteRangeResponse,
  encodePutResponse,
  encodeRangeResponse,
  encodeTxnResponse,
} from '../api/kv-wire.js';
import type { ServerApi } from '../server/server-api.js';
import type { CallContext, MethodDef } from './h2/grpc-server.js';
import { checkDelete, checkPut, checkRange, checkTxn } from './kv-checks.js';
import { refuseLearner } from './learner-guard.js';
import { gateHost } from './auth-service.js';
import { unary, type ServiceImpl } from './unary.js';

/** etcd's interceptor: a client that asks for a leader (metadata hasleader=true, as
 *  clientv3.WithRequireLeader) fails at once with "no leader" instead of waiting. */
export function requireLeader(server: Pick<ServerApi, 'leader'>, ctx: CallContext): void {
  if (ctx.metadata.get('hasleader') === 'true' && server.leader() === 0n) throw new EtcdError(Errors.NoLeader);
}

/** Malformed request bytes: grpc-go's answer (Internal, "grpc: error unmarshalling request"). */
function decoded<T>(decode: (b: Buffer) => T, bytes: Buffer): T {
  try {
    return decode(bytes);
  } catch (e) {
    if (e instanceof PbDecodeError) throw new GrpcError(GrpcCode.Internal, `grpc: error unmarshalling request: ${e.message}`);
    throw e;
  }
}

export function kvHandlers(server: ServerApi): ServiceImpl {
  const hot = (run: (bytes: Buffer, ctx: CallContext) => Promise<Uint8Array>): MethodDef => ({ kind: 'unary', handler: run });
  const host = gateHost(server);
  return {
    Range: hot(async (bytes, ctx) => {
      const req = decoded(decodeRangeRequest, bytes);
      // etcd's interceptor order: the learner check (serializable ranges allowed), then hasleader.
      if (!req.serializable) refuseLearner(server);
      requireLeader(server, ctx);
      checkRange(req);
      // Auth hook (server/auth-gate.ts): reads are checked here, before and after the read.
      let who = server.auth.info(ctx, host);
      if (who instanceof Promise) who = await who;
      server.auth.checkRange(who, req.key, req.range_end);
      const resp = await server.range(req);
      server.auth.checkStillCurrent(who);
      resp.header = server.header(resp.header.revision);
      return encodeRangeResponse(resp);
    }),
    Put: hot(async (bytes, ctx) => {
      const req = decoded(decodePutRequest, bytes);
      refuseLearner(server);
      requireLeader(server, ctx);
      checkPut(req);
      // Auth hook: writes carry who asks into their entry; apply checks it (server/auth-gate.ts).
      let who = server.auth.info(ctx, host);
      if (who instanceof Promise) who = await who;
      const resp = await server.put(req, bytes, who ?? undefined);
      resp.header = server.header(resp.header.revision);
      return encodePutResponse(resp);
    }),
    DeleteRange: hot(async (bytes, ctx) => {
      const req = decoded(decodeDeleteRangeRequest, bytes);
      refuseLearner(server);
      requireLeader(server, ctx);
      checkDelete(req);
      let who = server.auth.info(ctx, host);
      if (who instanceof Promise) who = await who;
      const resp = await server.deleteRange(req, bytes, who ?? undefined);
      resp.header = server.header(resp.header.revision);
      return encodeDeleteRangeResponse(resp);
    }),
    Txn: hot(async (bytes, ctx) => {
      const req = decoded(decodeTxnRequest, bytes);
      refuseLearner(server);
      requireLeader(server, ctx);
      checkTxn(req, server.opts.maxTxnOps);
      let who = server.auth.info(ctx, host);
      if (who instanceof Promise) who = await who;
      const resp = await server.txn(req, bytes, who ?? undefined);
      resp.header = server.header(resp.header.revision);
      return encodeTxnResponse(resp);
    }),
    Compact: unary(async (wire, ctx) => {
      refuseLearner(server);
      requireLeader(server, ctx);
      let who = server.auth.info(ctx, host);
      if (who instanceof Promise) who = await who;
      const resp = await server.compact(toDomain<CompactionRequest>('etcdserverpb.CompactionRequest', wire), who ?? undefined);
      return toWire('etcdserverpb.CompactionResponse', { ...resp, header: server.header(resp.header.revision) });
    }),
  };
}

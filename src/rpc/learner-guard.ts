/**
 * etcd's unary interceptor for learners (v3rpc/interceptor.go, isRPCSupportedForLearner): a
 * learner serves only Maintenance.Status and serializable ranges; every other call of the guarded
 * services (unary, or server-streaming such as Snapshot) fails with "etcdserver: rpc not
 * supported for learner" (Unavailable in 3.4/3.5, so clientv3 moves on to another endpoint).
 * Bidirectional streams (Watch, LeaseKeepAlive) are not guarded here.
 */
import type * as grpc from '@grpc/grpc-js';
import { Errors } from '../api/errors.js';
import type { EtcdServer } from '../server/etcd-server.js';
import type { UnaryHandler } from './unary.js';

function supportedForLearner(method: string, req: unknown): boolean {
  if (method === 'Status') return true;
  return method === 'Range' && (req as { serializable?: boolean } | null)?.serializable === true;
}

export function guardLearner(server: EtcdServer, handlers: Record<string, UnaryHandler>): Record<string, UnaryHandler> {
  const out: Record<string, UnaryHandler> = {};
  for (const [method, h] of Object.entries(handlers)) {
    out[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      if (server.isLearner() && !supportedForLearner(method, call.request)) {
        const e = Errors.NotSupportedForLearner;
        const err = { code: e.code as number as grpc.status, details: e.message, name: 'Error', message: e.message };
        // A server-streaming method (Snapshot) has no callback: end the stream with the status.
        if (typeof cb === 'function') cb(err, null);
        else (call as unknown as { emit(ev: 'error', e: unknown): void }).emit('error', err);
        return;
      }
      h(call, cb);
    };
  }
  return out;
}

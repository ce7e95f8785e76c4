/**
 * etcd's unary interceptor for learners (v3rpc/interceptor.go, isRPCSupportedForLearner): a
 * learner serves only Maintenance.Status and serializable ranges; every other call of the guarded
 * services (unary, or server-streaming such as Snapshot) fails with "etcdserver: rpc not
 * supported for learner" (Unavailable in 3.4/3.5, so clientv3 moves on to another endpoint).
 * Bidirectional streams (Watch, LeaseKeepAlive) are not guarded here. Range checks for itself
 * (kv-service.ts), since only it knows whether its request is serializable.
 */
import { EtcdError, Errors } from '../api/errors.js';
import type { ServerApi } from '../server/server-api.js';
import type { MethodDef } from './h2/grpc-server.js';
import type { ObjUnary, ServiceImpl } from './unary.js';

export function refuseLearner(server: Pick<ServerApi, 'isLearner'>): void {
  if (server.isLearner()) throw new EtcdError(Errors.NotSupportedForLearner);
}

export function guardLearner(server: ServerApi, impl: ServiceImpl, exempt: string[] = []): ServiceImpl {
  const out: ServiceImpl = {};
  for (const [method, m] of Object.entries(impl)) {
    if (method === 'Status' || exempt.includes(method)) {
      out[method] = m;
      continue;
    }
    out[method] = guardOne(server, m);
  }
  return out;
}

function guardOne(server: ServerApi, m: ObjUnary | MethodDef): ObjUnary | MethodDef {
  switch (m.kind) {
    case 'obj-unary':
      return {
        kind: 'obj-unary',
        run: (wire, ctx) => {
          refuseLearner(server);
          return m.run(wire, ctx);
        },
      };
    case 'unary':
      return {
        kind: 'unary',
        handler: (req, ctx) => {
          refuseLearner(server);
          return m.handler(req, ctx);
        },
      };
    case 'serverStream':
      return {
        kind: 'serverStream',
        handler: (req, call) => {
          refuseLearner(server);
          m.handler(req, call);
        },
      };
    case 'bidi':
      return m;
  }
}

/** Maintenance.Hash: the whole-store hash of this member (server/store-hash.ts), header at the store's revision. */
import { toWire } from '../api/convert.js';
import type { ServerApi } from '../server/server-api.js';
import { unary, type ObjUnary } from './unary.js';

export function hashHandler(server: Pick<ServerApi, 'hashStore' | 'header'>): ObjUnary {
  return unary(async () => {
    const r = await server.hashStore();
    return toWire('etcdserverpb.HashResponse', { header: server.header(r.revision), hash: r.hash });
  });
}

/** Maintenance.Hash: the whole-store hash of this member (server/store-hash.ts), header at the store's revision. */
import { toWire } from '../api/convert.js';
import type { EtcdServer } from '../server/etcd-server.js';
import { hashStore } from '../server/store-hash.js';
import { unary, type ObjUnary } from './unary.js';

export function hashHandler(server: Pick<EtcdServer, 'kv' | 'backend' | 'header'>): ObjUnary {
  return unary(async () => {
    const r = await hashStore(server.kv, server.backend);
    return toWire('etcdserverpb.HashResponse', { header: server.header(r.revision), hash: r.hash });
  });
}

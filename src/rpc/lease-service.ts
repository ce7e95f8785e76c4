/**
 * etcdserverpb.Lease (etcd v3rpc/lease.go): grant, revoke, time-to-live and list as unary
 * calls; keepalive as a bidirectional stream answering every request with one response, in
 * order. Headers as etcd's header.fill (cluster id, member id, raft term; revision).
 *
 * etcd's special answers kept: keepalive on an unknown lease → TTL 0 (no error);
 * time-to-live on an unknown lease → TTL −1, grantedTTL 0 (no error).
 */
import * as grpc from '@grpc/grpc-js';
import { toDomain, toWire } from '../api/convert.js';
import type { LeaseGrantRequest, LeaseRevokeRequest, LeaseTimeToLiveRequest } from '../api/lease-types.js';
import type { EtcdServer } from '../server/etcd-server.js';
import { toGrpcStatus } from './grpc-status.js';
import { unary, type UnaryHandler } from './unary.js';

/** What this service needs of the member. */
export type LeaseServiceServer = Pick<EtcdServer, 'leases' | 'header'>;

/** Keepalive requests read ahead of their answers on one stream (then reading pauses). */
export const keepAliveQueueMax = 1024;

export function leaseHandlers(server: LeaseServiceServer, onUnknown: (e: unknown) => void): Record<string, grpc.UntypedHandleCall> {
  const handlers: Record<string, UnaryHandler | grpc.handleBidiStreamingCall<unknown, unknown>> = {
    LeaseGrant: unary(async (wire) => {
      const r = await server.leases.grant(toDomain<LeaseGrantRequest>('etcdserverpb.LeaseGrantRequest', wire));
      return toWire('etcdserverpb.LeaseGrantResponse', { ...r, header: server.header(r.header.revision) });
    }, onUnknown),
    LeaseRevoke: unary(async (wire) => {
      const r = await server.leases.revoke(toDomain<LeaseRevokeRequest>('etcdserverpb.LeaseRevokeRequest', wire));
      return toWire('etcdserverpb.LeaseRevokeResponse', { header: server.header(r.header.revision) });
    }, onUnknown),
    LeaseTimeToLive: unary(async (wire) => {
      const r = await server.leases.timeToLive(toDomain<LeaseTimeToLiveRequest>('etcdserverpb.LeaseTimeToLiveRequest', wire));
      return toWire('etcdserverpb.LeaseTimeToLiveResponse', { ...r, header: server.header(r.header.revision) });
    }, onUnknown),
    LeaseLeases: unary(async () => {
      const ids = server.leases.leases();
      return toWire('etcdserverpb.LeaseLeasesResponse', { header: server.header(), leases: ids.map((ID) => ({ ID })) });
    }, onUnknown),
    LeaseKeepAlive: (call: grpc.ServerDuplexStream<unknown, unknown>) => keepAlive(server, call, onUnknown),
  };
  return handlers as Record<string, grpc.UntypedHandleCall>;
}

/**
 * One stream: every request is answered, strictly in request order, but renewals run
 * concurrently (a follower's forwarded renewals of one turn travel together to the leader;
 * lease-forward.ts). The first error other than "not found" (which answers TTL 0) ends the
 * stream with that error, as etcd's loop returns it. At most keepAliveQueueMax requests are
 * outstanding; beyond that the stream stops reading until answers drain.
 */
function keepAlive(server: LeaseServiceServer, call: grpc.ServerDuplexStream<unknown, unknown>, onUnknown: (e: unknown) => void): void {
  const outstanding: { id: bigint; ttl: Promise<bigint> }[] = [];
  let writing = false;
  let ended = false;
  let failed = false;
  const drain = async (): Promise<void> => {
    if (writing) return;
    writing = true;
    try {
      while (outstanding.length > 0 && !failed && !call.cancelled) {
        const head = outstanding[0] as { id: bigint; ttl: Promise<bigint> };
        const TTL = await head.ttl;
        outstanding.shift();
        if (outstanding.length < keepAliveQueueMax / 2 && call.isPaused()) call.resume();
        const ok = call.write(toWire('etcdserverpb.LeaseKeepAliveResponse', { header: server.header(), ID: head.id, TTL }));
        if (!ok) await new Promise<void>((r) => call.once('drain', () => r()));
      }
      if (ended && outstanding.length === 0 && !failed && !call.cancelled) call.end();
    } catch (err) {
      failed = true;
      const st = toGrpcStatus(err, onUnknown);
      call.emit('error', { code: st.code, details: st.details, message: st.details, name: 'Error' });
    } finally {
      writing = false;
    }
  };
  call.on('data', (wire: { ID?: string }) => {
    if (failed) return;
    const id = BigInt(wire.ID ?? '0');
    const ttl = server.leases.renew(id);
    ttl.catch(() => undefined); // settled through drain(); never an unhandled rejection
    outstanding.push({ id, ttl });
    if (outstanding.length >= keepAliveQueueMax) call.pause();
    void drain();
  });
  call.on('end', () => {
    ended = true;
    void drain();
  });
  call.on('error', () => {
    failed = true;
  });
}

/**
 * etcdserverpb.Lease (etcd v3rpc/lease.go): grant, revoke, time-to-live and list as unary
 * calls; keepalive as a bidirectional stream answering every request with one response, in
 * order. Headers as etcd's header.fill (cluster id, member id, raft term; revision).
 *
 * etcd's special answers kept: keepalive on an unknown lease → TTL 0 (no error);
 * time-to-live on an unknown lease → TTL −1, grantedTTL 0 (no error).
 */
import { toDomain, toWire } from '../api/convert.js';
import { PbDecodeError, decodeLeaseKeepAliveRequest, encodeLeaseKeepAliveResponse } from '../api/kv-wire.js';
import { GrpcCode, GrpcError } from '../api/errors.js';
import type { LeaseGrantRequest, LeaseRevokeRequest, LeaseTimeToLiveRequest } from '../api/lease-types.js';
import type { ServerApi } from '../server/server-api.js';
import { toGrpcStatus } from './grpc-status.js';
import type { CallContext, StreamCall } from './h2/grpc-server.js';
import type { AuthInfo } from '../server/auth-gate.js';
import { unary, type ServiceImpl } from './unary.js';

const empty = new Uint8Array(0);

/** What this service needs of the member. */
export type LeaseServiceServer = Pick<ServerApi, 'leases' | 'header' | 'auth' | 'applied' | 'linearizableRead'>;

/** Keepalive requests read ahead of their answers on one stream (then reading pauses). */
export const keepAliveQueueMax = 1024;

export function leaseHandlers(server: LeaseServiceServer, onUnknown: (e: unknown) => void): ServiceImpl {
  const host = { appliedIndex: () => server.applied(), catchUp: () => server.linearizableRead() };
  /** Auth hook (server/auth-gate.ts): who asks; a bad token fails here, as etcd's raft requests do. */
  const who = async (ctx: CallContext): Promise<AuthInfo | undefined> => {
    const i = server.auth.info(ctx, host);
    return (i instanceof Promise ? await i : i) ?? undefined;
  };
  return {
    LeaseGrant: unary(async (wire, ctx) => {
      await who(ctx); // etcd checks no permission for a grant, only the token
      const r = await server.leases.grant(toDomain<LeaseGrantRequest>('etcdserverpb.LeaseGrantRequest', wire));
      return toWire('etcdserverpb.LeaseGrantResponse', { ...r, header: server.header(r.header.revision) });
    }),
    LeaseRevoke: unary(async (wire, ctx) => {
      // Apply refuses it unless the caller may write every key attached to the lease.
      const r = await server.leases.revoke(toDomain<LeaseRevokeRequest>('etcdserverpb.LeaseRevokeRequest', wire), await who(ctx));
      return toWire('etcdserverpb.LeaseRevokeResponse', { header: server.header(r.header.revision) });
    }),
    LeaseTimeToLive: unary(async (wire, ctx) => {
      const req = toDomain<LeaseTimeToLiveRequest>('etcdserverpb.LeaseTimeToLiveRequest', wire);
      const r = await server.leases.timeToLive(req);
      // The attached keys are shown only to who may read them all (etcd ≥ 3.4.26 / 3.5.9,
      // CVE-2023-32082; 3.4.23 did not check).
      if (req.keys && server.auth.enabled) {
        const caller = (await who(ctx)) ?? null;
        for (const k of r.keys) server.auth.checkRange(caller, k, empty);
      }
      return toWire('etcdserverpb.LeaseTimeToLiveResponse', { ...r, header: server.header(r.header.revision) });
    }),
    LeaseLeases: unary(async () => {
      const ids = server.leases.leases();
      return toWire('etcdserverpb.LeaseLeasesResponse', { header: server.header(), leases: ids.map((ID) => ({ ID })) });
    }),
    LeaseKeepAlive: { kind: 'bidi', handler: (call) => keepAlive(server, call, onUnknown) },
  };
}

/**
 * One stream: every request is answered, strictly in request order, but renewals run
 * concurrently (a follower's forwarded renewals of one turn travel together to the leader;
 * lease-forward.ts). The first error other than "not found" (which answers TTL 0) ends the
 * stream with that error, as etcd's loop returns it. At most keepAliveQueueMax requests are
 * outstanding; beyond that the stream stops reading until answers drain.
 */
function keepAlive(server: LeaseServiceServer, call: StreamCall, onUnknown: (e: unknown) => void): void {
  const outstanding: { id: bigint; ttl: Promise<bigint> }[] = [];
  let writing = false;
  let ended = false;
  let paused = false;
  let wake: (() => void) | null = null;
  call.onDrain(() => wake?.());
  call.onCancel(() => wake?.());
  const drain = async (): Promise<void> => {
    if (writing) return;
    writing = true;
    try {
      while (outstanding.length > 0 && !call.ended) {
        const head = outstanding[0] as { id: bigint; ttl: Promise<bigint> };
        const TTL = await head.ttl;
        outstanding.shift();
        if (paused && outstanding.length < keepAliveQueueMax / 2) {
          paused = false;
          call.resume();
        }
        const ok = call.write(encodeLeaseKeepAliveResponse(server.header(), head.id, TTL));
        if (!ok && !call.ended) {
          await new Promise<void>((r) => (wake = r));
          wake = null;
        }
      }
      if (ended && outstanding.length === 0) call.end();
    } catch (err) {
      call.end(toGrpcStatus(err, onUnknown));
    } finally {
      writing = false;
    }
  };
  call.onMessage((bytes) => {
    if (call.ended) return;
    let id: bigint;
    try {
      id = decodeLeaseKeepAliveRequest(bytes);
    } catch (e) {
      if (e instanceof PbDecodeError) throw new GrpcError(GrpcCode.Internal, `grpc: error unmarshalling request: ${e.message}`);
      throw e;
    }
    const ttl = server.leases.renew(id);
    ttl.catch(() => undefined); // settled through drain(); never an unhandled rejection
    outstanding.push({ id, ttl });
    if (outstanding.length >= keepAliveQueueMax && !paused) {
      paused = true;
      call.pause();
    }
    void drain();
  });
  call.onHalfClose(() => {
    ended = true;
    void drain();
  });
}

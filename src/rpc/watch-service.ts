/**
 * etcdserverpb.Watch (etcd v3rpc watch.go): one bidirectional stream per call, many watchers
 * per stream. Requests are read as they come (create, cancel, progress); responses come from
 * the stream's queue (mvcc/watch-stream.ts) and are written while the call accepts them —
 * when grpc-js reports back-pressure we stop and resume on 'drain', so a slow client leaves
 * its responses in the bounded queue and its watchers fall behind into catch-up from MVCC
 * instead of growing memory.
 *
 * Request normalisation as etcd: an empty key is "\0"; an empty range_end means the single key;
 * range_end "\0" means every key ≥ key. Responses are encoded by api/watch-codec.ts (events
 * encoded once for all watchers) and fragmented above max-request-bytes + gRPC overhead for
 * watchers that asked for it (etcd's sws.maxRequestBytes). A periodic progress tick
 * (--experimental-watch-progress-notify-interval, plus up to 10 % jitter as etcd) serves
 * progress_notify watchers.
 *
 * Responses are framed several to a write (StreamCall.writeMany): each revision is one message
 * per watcher, so 10 000 watchers on one prefix need tens of thousands of messages a second;
 * back-pressure comes from the HTTP/2 stream (write() false, then onDrain).
 */
import { grpcOverheadBytes } from '../base/limits.js';
import { toDomain } from '../api/convert.js';
import { EtcdError, Errors } from '../api/errors.js';
import { encodeWatchResponse } from '../api/watch-codec.js';
import { toGrpcStatus } from './grpc-status.js';
import type { StreamCall } from './h2/grpc-server.js';
import { decodeRequest, type ServiceImpl } from './unary.js';
import type { ServerApi } from '../server/server-api.js';

/** A queued response of a watch stream (mvcc/watch-stream.ts WatchOut, reached through the server). */
type WatchOut = NonNullable<ReturnType<ReturnType<ServerApi['watchable']['newStream']>['shift']>>;

/** etcd's cancel reason for a watch auth refuses: rpctypes.ErrGRPCPermissionDenied.Error(). */
export const permissionDeniedReason = 'rpc error: code = PermissionDenied desc = etcdserver: permission denied';

/** Election timeouts without a leader after which a `hasleader` stream ends (etcd maxNoLeaderCnt). */
export const noLeaderTicksMax = 3;

/** etcd's default --experimental-watch-progress-notify-interval. */
export const watchProgressNotifyIntervalMsDefault = 10 * 60 * 1000;

export interface WatchServiceOptions {
  progressNotifyIntervalMs?: number;
}

interface WatchRequestDomain {
  request_union?: 'create_request' | 'cancel_request' | 'progress_request';
  create_request?: {
    key: Buffer;
    range_end: Buffer;
    start_revision: bigint;
    progress_notify: boolean;
    filters: number[];
    prev_kv: boolean;
    watch_id: bigint;
    fragment: boolean;
  } | null;
  cancel_request?: { watch_id: bigint } | null;
  progress_request?: object | null;
}

const filterNoPut = 0;
const filterNoDelete = 1;

/**
 * Responses framed into one HTTP/2 write at most (bytes): about the HTTP/2 stream buffer and
 * well inside the peer's flow-control window; 256 KiB writes measured 10× the delivery latency.
 */
export const watchWriteBytesMax = 16 * 1024;

export function watchHandlers(server: ServerApi, opts: WatchServiceOptions, onUnknown: (e: unknown) => void): ServiceImpl {
  const intervalMs = opts.progressNotifyIntervalMs ?? watchProgressNotifyIntervalMsDefault;
  const fragmentBytes = server.opts.maxRequestBytes + grpcOverheadBytes;
  const Watch = (call: StreamCall): void => {
    // clientv3 WithRequireLeader (etcdctl watch): refuse, then end the stream, without a leader
    // (etcd v3rpc interceptor + monitorLeader), so the client moves to another member.
    const requireLeader = call.metadata.get('hasleader') === 'true';
    const noLeader = (): void => call.end(toGrpcStatus(new EtcdError(Errors.NoLeader)));
    if (requireLeader && server.leader() === 0n) return noLeader();
    const stream = server.watchable.newStream();
    let blocked = false;
    let scheduled = false;
    let done = false;
    const encode = (o: WatchOut): Buffer[] =>
      encodeWatchResponse(
        {
          header: { cluster_id: server.clusterId, member_id: server.memberId, revision: o.rev, raft_term: server.term() },
          watch_id: o.watchId,
          created: o.created,
          canceled: o.canceled,
          compact_revision: o.compactRevision,
          cancel_reason: o.cancelReason,
          fragment: false,
          events: o.events,
          prevKv: o.prevKv,
        },
        o.fragment ? fragmentBytes : 0,
      );
    const pump = (): void => {
      scheduled = false;
      if (done || blocked) return;
      for (;;) {
        if (call.ended) return finish();
        const msgs: Buffer[] = [];
        let bytes = 0;
        for (let o = stream.shift(); o !== undefined; o = bytes < watchWriteBytesMax ? stream.shift() : undefined) {
          for (const b of encode(o)) {
            msgs.push(b);
            bytes += b.length + 5;
          }
          if (bytes >= watchWriteBytesMax) break;
        }
        if (msgs.length === 0) return;
        if (!call.writeMany(msgs)) {
          blocked = true;
          return;
        }
      }
    };
    call.onDrain(() => {
      if (!blocked) return;
      blocked = false;
      pump();
    });
    stream.onReady = () => {
      if (scheduled || blocked || done) return;
      scheduled = true;
      // After the apply batch that produced the events (a microtask, not a loop turn later).
      queueMicrotask(pump);
    };
    const jitter = Math.floor(Math.random() * (intervalMs / 10));
    const ticker = setInterval(() => stream.progressTick(), intervalMs + jitter);
    ticker.unref?.();
    let leaderless = 0;
    const leaderCheck = requireLeader
      ? setInterval(() => {
          leaderless = server.leader() === 0n ? leaderless + 1 : 0;
          if (leaderless < noLeaderTicksMax) return;
          finish();
          noLeader();
        }, server.opts.electionTimeoutMs)
      : null;
    leaderCheck?.unref?.();
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(ticker);
      if (leaderCheck) clearInterval(leaderCheck);
      stream.close();
    };
    /** Set while an auth check waits (a token minted by an entry not applied here yet): later requests queue behind it, in order. */
    let waiting: Promise<void> | null = null;
    const handle = (bytes: Buffer): void | Promise<void> => {
      if (done) return;
      try {
        const req = toDomain<WatchRequestDomain>('etcdserverpb.WatchRequest', decodeRequest('etcdserverpb.WatchRequest', bytes));
        switch (req.request_union) {
          case 'create_request': {
            const c = req.create_request;
            if (!c) return;
            const key = c.key.length === 0 ? Buffer.from([0]) : c.key;
            const end = c.range_end.length === 0 ? null : c.range_end.length === 1 && c.range_end[0] === 0 ? Buffer.alloc(0) : c.range_end;
            const create = (permitted: boolean): void => {
              if (done) return;
              // Auth hook (server/auth-gate.ts, etcd isWatchPermitted): a refused watch is
              // answered created+canceled with the error as its reason.
              if (!permitted) return stream.refuse(permissionDeniedReason);
              stream.create({
                watchId: c.watch_id,
                key,
                end,
                startRev: c.start_revision,
                noPut: c.filters.includes(filterNoPut),
                noDelete: c.filters.includes(filterNoDelete),
                prevKv: c.prev_kv,
                progressNotify: c.progress_notify,
                fragment: c.fragment,
              });
            };
            // etcd checks the normalised key and range end (range end "\0" is then empty).
            const ok = server.auth.watchPermitted(call, key, end ?? Buffer.alloc(0));
            if (ok instanceof Promise) return ok.then(create);
            return create(ok);
          }
          case 'cancel_request':
            if (req.cancel_request) stream.cancel(req.cancel_request.watch_id);
            return;
          case 'progress_request':
            stream.requestProgress();
            return;
          default:
            return; // etcd ignores an empty request
        }
      } catch (e) {
        finish();
        call.end(toGrpcStatus(e, onUnknown));
      }
    };
    const track = (p: Promise<void>): Promise<void> => {
      const mine: Promise<void> = p.finally(() => {
        if (waiting === mine) waiting = null;
      });
      return mine;
    };
    call.onMessage((bytes) => {
      if (done) return;
      if (waiting !== null) {
        waiting = track(waiting.then(() => handle(bytes)));
        return;
      }
      const p = handle(bytes);
      if (p instanceof Promise) waiting = track(p);
    });
    // etcd's recvLoop returns on the client's half-close but its sendLoop goes on: the stream
    // keeps delivering events until the client cancels it or the connection ends.
    call.onHalfClose(() => undefined);
    call.onCancel(finish);
  };
  return { Watch: { kind: 'bidi', handler: Watch } };
}

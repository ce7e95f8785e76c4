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
 * Why responses are framed here and written straight to the HTTP/2 stream when grpc-js allows
 * it: grpc-js's server stream writes one message per socket-write completion (an object-mode
 * Writable waiting for each callback), which caps a stream at a few thousand messages per
 * second — far below what 10 000 watchers on one prefix need (each revision is one message per
 * watcher). Several length-prefixed gRPC messages in one HTTP/2 write is ordinary gRPC framing;
 * back-pressure then comes from the HTTP/2 stream itself ('drain'). If grpc-js's internals are
 * not as expected, we fall back to call.write, one message at a time.
 */
import * as grpc from '@grpc/grpc-js';
import { grpcOverheadBytes } from '../base/limits.js';
import { toDomain } from '../api/convert.js';
import { EtcdError, Errors } from '../api/errors.js';
import { watchService } from '../api/proto.js';
import { encodeWatchResponse } from '../api/watch-codec.js';
import { toGrpcStatus } from './grpc-status.js';
import type { EtcdServer } from '../server/etcd-server.js';

/** A queued response of a watch stream (mvcc/watch-stream.ts WatchOut, reached through the server). */
type WatchOut = NonNullable<ReturnType<ReturnType<EtcdServer['watchable']['newStream']>['shift']>>;

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

/** The Watch service definition with a pass-through serializer (responses are pre-encoded). */
export const watchServiceRaw: grpc.ServiceDefinition = (() => {
  const def = watchService.Watch;
  if (!def) throw new Error('Watch method missing from the proto');
  return { Watch: { ...def, responseSerialize: (b: Buffer) => b } } as grpc.ServiceDefinition;
})();

/**
 * Responses framed into one HTTP/2 write at most (bytes): about the HTTP/2 stream buffer and
 * well inside the peer's flow-control window; 256 KiB writes measured 10× the delivery latency.
 */
export const watchWriteBytesMax = 16 * 1024;

interface RawStream {
  write(b: Buffer): boolean;
  onDrain(fn: () => void): void;
  closed(): boolean;
}

/** The HTTP/2 stream under a grpc-js server call without interceptors, or null. */
function rawStream(call: grpc.ServerDuplexStream<unknown, Buffer>): RawStream | null {
  const base = (call as unknown as { call?: { stream?: unknown; maybeSendMetadata?: unknown } }).call;
  const h2 = base?.stream as { write?: unknown; once?: unknown; destroyed?: boolean; closed?: boolean } | undefined;
  if (!base || typeof base.maybeSendMetadata !== 'function' || !h2 || typeof h2.write !== 'function' || typeof h2.once !== 'function') return null;
  const send = base.maybeSendMetadata.bind(base) as () => void;
  const stream = h2 as unknown as import('node:stream').Writable & { closed: boolean };
  return {
    write: (b) => {
      send();
      return stream.write(b);
    },
    onDrain: (fn) => void stream.once('drain', fn),
    closed: () => stream.destroyed || stream.closed,
  };
}

function frame(msgs: Buffer[]): Buffer {
  let n = 0;
  for (const m of msgs) n += 5 + m.length;
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  for (const m of msgs) {
    out[at] = 0;
    out.writeUInt32BE(m.length, at + 1);
    m.copy(out, at + 5);
    at += 5 + m.length;
  }
  return out;
}

export function watchHandlers(server: EtcdServer, opts: WatchServiceOptions, onUnknown: (e: unknown) => void): grpc.UntypedServiceImplementation {
  const intervalMs = opts.progressNotifyIntervalMs ?? watchProgressNotifyIntervalMsDefault;
  const fragmentBytes = server.opts.maxRequestBytes + grpcOverheadBytes;
  const Watch = (call: grpc.ServerDuplexStream<unknown, Buffer>): void => {
    // clientv3 WithRequireLeader (etcdctl watch): refuse, then end the stream, without a leader
    // (etcd v3rpc interceptor + monitorLeader), so the client moves to another member.
    const requireLeader = call.metadata.get('hasleader')[0] === 'true';
    const noLeader = (): void => {
      const st = toGrpcStatus(new EtcdError(Errors.NoLeader));
      call.emit('error', { code: st.code, details: st.details, metadata: new grpc.Metadata() });
    };
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
    const raw = rawStream(call);
    const pump = (): void => {
      scheduled = false;
      if (done || blocked) return;
      if (raw) {
        for (;;) {
          if (raw.closed()) return finish();
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
          if (!raw.write(frame(msgs))) {
            blocked = true;
            raw.onDrain(() => {
              blocked = false;
              pump();
            });
            return;
          }
        }
      }
      for (let o = stream.shift(); o !== undefined; o = stream.shift()) {
        let ok = true;
        for (const b of encode(o)) ok = call.write(b) && ok;
        if (!ok) {
          blocked = true;
          call.once('drain', () => {
            blocked = false;
            pump();
          });
          return;
        }
      }
    };
    stream.onReady = () => {
      if (scheduled || blocked || done) return;
      scheduled = true;
      setImmediate(pump);
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
    call.on('data', (wire: unknown) => {
      if (done) return;
      try {
        const req = toDomain<WatchRequestDomain>('etcdserverpb.WatchRequest', wire);
        switch (req.request_union) {
          case 'create_request': {
            const c = req.create_request;
            if (!c) return;
            const key = c.key.length === 0 ? Buffer.from([0]) : c.key;
            const end = c.range_end.length === 0 ? null : c.range_end.length === 1 && c.range_end[0] === 0 ? Buffer.alloc(0) : c.range_end;
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
            return;
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
        onUnknown(e);
        finish();
        call.emit('error', { code: grpc.status.UNKNOWN, details: e instanceof Error ? e.message : String(e) });
      }
    });
    call.on('end', () => {
      finish();
      call.end();
    });
    call.on('cancelled', finish);
    call.on('error', finish);
    call.on('close', finish);
  };
  return { Watch } as grpc.UntypedServiceImplementation;
}

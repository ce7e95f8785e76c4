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
 */
import * as grpc from '@grpc/grpc-js';
import { grpcOverheadBytes } from '../base/limits.js';
import { toDomain } from '../api/convert.js';
import { watchService } from '../api/proto.js';
import { encodeWatchResponse } from '../api/watch-codec.js';
import type { EtcdServer } from '../server/etcd-server.js';

/** A queued response of a watch stream (mvcc/watch-stream.ts WatchOut, reached through the server). */
type WatchOut = NonNullable<ReturnType<ReturnType<EtcdServer['watchable']['newStream']>['shift']>>;

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

export function watchHandlers(server: EtcdServer, opts: WatchServiceOptions, onUnknown: (e: unknown) => void): grpc.UntypedServiceImplementation {
  const intervalMs = opts.progressNotifyIntervalMs ?? watchProgressNotifyIntervalMsDefault;
  const fragmentBytes = server.opts.maxRequestBytes + grpcOverheadBytes;
  const Watch = (call: grpc.ServerDuplexStream<unknown, Buffer>): void => {
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
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(ticker);
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

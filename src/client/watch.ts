/**
 * Watch for the small client (clientv3 watcher.go semantics, what etcdctl sees):
 * - one gRPC Watch stream per session; each `watch()` sends a create request and its responses
 *   go to its handler — the created response is not passed on (clientv3 without
 *   WithCreatedNotify), progress responses (watch id −1) go to every watcher of the session;
 * - a canceled response (compaction, or a create refused) ends the watcher; its `done` promise
 *   resolves with that response;
 * - when the stream breaks (member gone, UNAVAILABLE) the session reopens on the next endpoint
 *   and re-creates every live watcher with start_revision = the revision after the last one it
 *   delivered, so nothing is missed and nothing is seen twice across members.
 */
import * as grpc from '@grpc/grpc-js';
import { toDomain, toWire } from '../api/convert.js';
import type { Event } from '../api/kv-types.js';
import { WatchClient } from '../api/proto.js';
import type { ResponseHeader, WireMessage } from './types.js';
import { pruneWire } from './wire.js';

export interface WatchRequestOptions {
  key: Buffer;
  /** Absent: the single key; "\0": every key ≥ key. */
  rangeEnd?: Buffer;
  /** 0 / absent: from the next revision. */
  startRevision?: bigint;
  prevKv?: boolean;
  progressNotify?: boolean;
  /** 0 = NOPUT, 1 = NODELETE */
  filters?: number[];
  fragment?: boolean;
}

export interface WatchResponseView {
  header: ResponseHeader;
  watch_id: bigint;
  created: boolean;
  canceled: boolean;
  compact_revision: bigint;
  cancel_reason: string;
  fragment: boolean;
  events: Event[];
  /** The response as received (proto-loader object). */
  raw: WireMessage;
}

/** clientv3 IsProgressNotify (in watch-view.ts, which loads no gRPC library). */
import { isProgressNotify } from './watch-view.js';
export { isProgressNotify };

interface LocalWatcher {
  opts: WatchRequestOptions;
  /** Revision to resume from (0 = not known yet). */
  nextRev: bigint;
  serverId: bigint | null;
  onResponse: (r: WatchResponseView) => void;
  resolveDone: (r: WatchResponseView | null) => void;
  done: Promise<WatchResponseView | null>;
  ended: boolean;
  /** Events of a fragmented response being reassembled. */
  partial: Event[];
}

export interface WatchHandle {
  /** Resolves when the watcher ends: the canceled response, or null when closed locally. */
  done: Promise<WatchResponseView | null>;
  cancel(): void;
}

export interface WatchSessionOptions {
  /** gRPC clients of the endpoints, in order of preference. */
  clients: grpc.Client[];
  metadata?: () => grpc.Metadata;
  /** Pause before reopening a broken stream. */
  retryMs?: number;
}

export class WatchSession {
  private call: grpc.ClientDuplexStream<unknown, unknown> | null = null;
  private endpoint = 0;
  private readonly watchers: LocalWatcher[] = [];
  /** Watchers whose create request is in flight on the current stream, in order. */
  private creating: LocalWatcher[] = [];
  private closed = false;
  private readonly retryMs: number;

  constructor(private readonly opts: WatchSessionOptions) {
    this.retryMs = opts.retryMs ?? 200;
  }

  watch(opts: WatchRequestOptions, onResponse: (r: WatchResponseView) => void): WatchHandle {
    let resolveDone: (r: WatchResponseView | null) => void = () => undefined;
    const done = new Promise<WatchResponseView | null>((r) => (resolveDone = r));
    const w: LocalWatcher = {
      opts,
      nextRev: opts.startRevision ?? 0n,
      serverId: null,
      onResponse,
      resolveDone,
      done,
      ended: false,
      partial: [],
    };
    this.watchers.push(w);
    this.ensureStream();
    this.sendCreate(w);
    return {
      done,
      cancel: () => {
        if (w.ended) return;
        if (w.serverId !== null) this.write({ cancel_request: { watch_id: w.serverId } });
        this.end(w, null);
      },
    };
  }

  requestProgress(): void {
    this.ensureStream();
    this.write({ progress_request: {} });
  }

  close(): void {
    this.closed = true;
    for (const w of [...this.watchers]) this.end(w, null);
    this.call?.end();
    this.call?.cancel();
    this.call = null;
  }

  private end(w: LocalWatcher, r: WatchResponseView | null): void {
    if (w.ended) return;
    w.ended = true;
    const i = this.watchers.indexOf(w);
    if (i >= 0) this.watchers.splice(i, 1);
    w.resolveDone(r);
  }

  private write(req: Record<string, unknown>): void {
    const type = 'etcdserverpb.WatchRequest';
    const union = Object.keys(req)[0] as string;
    const wire = pruneWire(type, toWire(type, { ...req, request_union: union }));
    this.call?.write(wire);
  }

  private sendCreate(w: LocalWatcher): void {
    this.creating.push(w);
    this.write({
      create_request: {
        key: w.opts.key,
        range_end: w.opts.rangeEnd ?? Buffer.alloc(0),
        start_revision: w.nextRev,
        progress_notify: w.opts.progressNotify ?? false,
        filters: w.opts.filters ?? [],
        prev_kv: w.opts.prevKv ?? false,
        watch_id: 0n,
        fragment: w.opts.fragment ?? false,
      },
    });
  }

  private ensureStream(): void {
    if (this.call || this.closed) return;
    const client = this.opts.clients[this.endpoint % this.opts.clients.length] as grpc.Client;
    const def = WatchClient.service.Watch;
    if (!def) throw new Error('no Watch method');
    const call = client.makeBidiStreamRequest(
      def.path,
      def.requestSerialize as (v: unknown) => Buffer,
      def.responseDeserialize as (b: Buffer) => unknown,
      this.requireLeader(this.opts.metadata?.() ?? new grpc.Metadata()),
    );
    this.call = call;
    this.creating = [];
    call.on('data', (raw: WireMessage) => this.onData(raw));
    const broken = (): void => {
      if (this.call !== call) return;
      this.call = null;
      if (this.closed || this.watchers.length === 0) return;
      // Resume elsewhere: every live watcher again, from the revision after its last one.
      this.endpoint++;
      setTimeout(() => {
        if (this.closed || this.call) return;
        this.ensureStream();
        for (const w of this.watchers) {
          w.serverId = null;
          w.partial = [];
          this.sendCreate(w);
        }
      }, this.retryMs).unref?.();
    };
    call.on('error', broken);
    call.on('end', broken);
  }

  /** clientv3 WithRequireLeader, as etcdctl watch uses: a member without a leader ends the stream. */
  private requireLeader(md: grpc.Metadata): grpc.Metadata {
    md.set('hasleader', 'true');
    return md;
  }

  private onData(raw: WireMessage): void {
    const r = { ...toDomain<Omit<WatchResponseView, 'raw'>>('etcdserverpb.WatchResponse', raw), raw };
    if (r.created) {
      const w = this.creating.shift();
      if (!w) return;
      if (r.canceled) {
        this.end(w, r);
        return;
      }
      w.serverId = r.watch_id;
      // clientv3: a watcher from "now" resumes after the revision it was created at.
      if (w.nextRev === 0n) w.nextRev = r.header.revision + 1n;
      return;
    }
    if (r.watch_id === -1n) {
      for (const w of [...this.watchers]) if (w.serverId !== null) w.onResponse(r);
      return;
    }
    const w = this.watchers.find((x) => x.serverId === r.watch_id);
    if (!w) return;
    if (r.fragment) {
      w.partial.push(...r.events);
      return;
    }
    if (w.partial.length > 0) {
      r.events = [...w.partial, ...r.events];
      w.partial = [];
    }
    const last = r.events[r.events.length - 1];
    if (last) w.nextRev = last.kv.mod_revision + 1n;
    else if (isProgressNotify(r) && r.header.revision >= w.nextRev) w.nextRev = r.header.revision + 1n;
    w.onResponse(r);
    if (r.canceled) this.end(w, r);
  }
}

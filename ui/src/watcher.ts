/**
 * A watch that outlives its stream, as clientv3 (and so `etcdctl watch`) keeps one: when the
 * stream ends or the member goes away, it opens a new one starting at the revision after the
 * last one it delivered, so nothing is missed or seen twice. A compacted start revision or a
 * refused watch ends it, with the reason.
 */
import { needsLogin, type Gateway, type WatchEvent } from './api.js';
import type { Bytes } from './bytes.js';

export type WatchState =
  | { kind: 'connecting' }
  | { kind: 'watching'; revision: number }
  | { kind: 'reconnecting'; nextRevision: number | null; error: string }
  | { kind: 'compacted'; compactRevision: number }
  | { kind: 'canceled'; reason: string }
  | { kind: 'stopped' };

export interface WatchSpec {
  key: Bytes;
  rangeEnd?: Bytes;
  /** 0 or absent: from now on. */
  startRevision?: number;
  prevKv: boolean;
}

export interface WatchHandlers {
  onEvents(events: WatchEvent[], revision: number): void;
  onState(state: WatchState): void;
}

const retryMsMin = 250;
const retryMsMax = 2000;

export class ResumingWatch {
  private readonly abort = new AbortController();
  private stopped = false;
  /** The first revision the next stream must start at (null: from now, not yet known). */
  nextRevision: number | null;

  constructor(
    private readonly gw: Gateway,
    private readonly spec: WatchSpec,
    private readonly on: WatchHandlers,
  ) {
    this.nextRevision = spec.startRevision ? spec.startRevision : null;
    void this.run();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.on.onState({ kind: 'stopped' });
  }

  private async run(): Promise<void> {
    let retryMs = retryMsMin;
    this.on.onState({ kind: 'connecting' });
    while (!this.stopped) {
      try {
        const stream = this.gw.watch(
          { key: this.spec.key, rangeEnd: this.spec.rangeEnd, startRevision: this.nextRevision ?? undefined, prevKv: this.spec.prevKv },
          { signal: this.abort.signal },
        );
        for await (const r of stream) {
          if (this.stopped) return;
          const revision = Number(r.header.revision ?? 0);
          if (r.created) {
            // From now on: the stream sees every revision after the one it was created at.
            if (this.nextRevision === null) this.nextRevision = revision + 1;
            if (!r.canceled) this.on.onState({ kind: 'watching', revision });
            retryMs = retryMsMin;
          }
          if (r.canceled) {
            if (r.compactRevision > 0) return this.finish({ kind: 'compacted', compactRevision: r.compactRevision });
            const reason = r.cancelReason ?? 'canceled by the server';
            // etcd cancels an unauthenticated watch at once with the auth error as its reason.
            if (/user name is empty|invalid auth token/.test(reason) && (await this.gw.renewToken())) continue;
            return this.finish({ kind: 'canceled', reason });
          }
          if (r.events.length > 0) {
            const last = r.events[r.events.length - 1];
            if (last !== undefined) this.nextRevision = last.kv.modRevision + 1;
            this.on.onEvents(r.events, revision);
          }
        }
        if (this.stopped) return;
        this.on.onState({ kind: 'reconnecting', nextRevision: this.nextRevision, error: 'the stream ended' });
      } catch (e) {
        if (this.stopped) return;
        if (needsLogin(e) && (await this.gw.renewToken())) continue;
        this.on.onState({ kind: 'reconnecting', nextRevision: this.nextRevision, error: e instanceof Error ? e.message : String(e) });
      }
      await new Promise((r) => setTimeout(r, retryMs));
      retryMs = Math.min(retryMs * 2, retryMsMax);
    }
  }

  private finish(state: WatchState): void {
    this.stopped = true;
    this.abort.abort();
    this.on.onState(state);
  }
}

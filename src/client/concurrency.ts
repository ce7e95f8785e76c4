/**
 * clientv3/concurrency for the small client, as etcdctl's `lock` and `elect` use it: a session
 * (a lease kept alive), a mutex and an election over plain KV, Lease and Watch calls.
 *
 * - Session: grants a lease of the given TTL and keeps it alive; `done` resolves once the
 *   lease expired or was revoked (the keepalive loop ended), or the session was closed.
 * - Keys are `<prefix>/<lease %x>`; the owner/leader is the key with the lowest create revision
 *   under the prefix; a waiter waits for the deletion of the newest key created before its own,
 *   one at a time (concurrency waitDeletes), so waiters are served in creation order.
 * - A wait is abandoned when its AbortSignal fires: it fails with `context canceled` and the
 *   waiter's own key is deleted (Mutex.Lock's unlock, Election.Campaign's resign).
 *
 * Invariants: every watcher opened here is cancelled when its wait ends, whichever way; the
 * session's keepalive loop stops when the session is closed.
 */
import { CompareResult, CompareTarget, EventType, SortOrder, SortTarget, type KeyValue, type RangeRequest, type RequestOp, type TxnRequest } from '../api/kv-types.js';
import { emptyRangeRequest } from '../api/kv-types.js';
import { prefixEnd } from '../base/bytes.js';
import type { EtcdClient } from './client.js';
import { ClientError } from './errors.js';
import { keepAlive } from './lease-keepalive.js';
import type { ResponseHeader } from './types.js';
import type { WatchSession } from './watch.js';

/** concurrency.defaultSessionTTL (seconds). */
export const sessionTtlDefault = 60n;

/** The texts etcdctl prints for these failures. */
export const ConcurrencyErrors = {
  Canceled: 'context canceled',
  NotLeader: 'election: not leader',
  Compacted: 'etcdserver: mvcc: required revision has been compacted',
  LostWatcher: 'lost watcher waiting for delete',
} as const;

/** Go's %x of an int64. */
function goHex(n: bigint): string {
  return n < 0n ? `-${(-n).toString(16)}` : n.toString(16);
}

function canceled(): ClientError {
  return new ClientError(1, ConcurrencyErrors.Canceled);
}

export class Session {
  private readonly stop = new AbortController();
  /** Resolves when the lease is gone (expired, revoked) or the session is closed. */
  readonly done: Promise<void>;
  private watches: WatchSession | null = null;

  private constructor(
    readonly client: EtcdClient,
    readonly lease: bigint,
  ) {
    this.done = keepAlive(client, lease, () => undefined, { firstAnswerTimeoutMs: client.dialTimeoutMs + 1000, signal: this.stop.signal });
  }

  static async create(client: EtcdClient, ttlSeconds: bigint = sessionTtlDefault): Promise<Session> {
    const r = await client.leaseGrant(ttlSeconds);
    return new Session(client, r.resp.ID);
  }

  /** One watch stream shared by the waits of this session. */
  async watchSession(): Promise<WatchSession> {
    this.watches ??= await this.client.watchSession();
    return this.watches;
  }

  /** Stops the keepalive (the lease then expires by itself, as etcdctl leaves it). */
  close(): void {
    this.stop.abort();
    this.watches?.close();
  }
}

function byCreate(prefix: Buffer, order: 'first' | 'last', maxCreateRev = 0n): RangeRequest {
  const r = emptyRangeRequest(prefix, Buffer.from(prefixEnd(prefix)));
  r.sort_target = SortTarget.CREATE;
  r.sort_order = order === 'first' ? SortOrder.ASCEND : SortOrder.DESCEND;
  r.limit = 1n;
  r.max_create_revision = maxCreateRev;
  return r;
}

function createRevIs(key: Buffer, rev: bigint): TxnRequest['compare'][number] {
  return { result: CompareResult.EQUAL, target: CompareTarget.CREATE, key, target_union: 'create_revision', create_revision: rev, range_end: Buffer.alloc(0) };
}

function put(key: Buffer, value: Buffer, lease: bigint): RequestOp {
  return { request: 'request_put', request_put: { key, value, lease, prev_kv: false, ignore_value: false, ignore_lease: false } };
}

function get(r: RangeRequest): RequestOp {
  return { request: 'request_range', request_range: r };
}

function del(key: Buffer): RequestOp {
  return { request: 'request_delete_range', request_delete_range: { key, range_end: Buffer.alloc(0), prev_kv: false } };
}

/**
 * Watches [key, end) (end null: the key) from `rev`, passing each event batch to `onEvents`
 * until it returns true. Fails on a canceled watch (compaction) or when `signal` fires.
 */
async function watchUntil(
  s: Session,
  key: Buffer,
  end: Buffer | null,
  rev: bigint,
  signal: AbortSignal,
  onEvents: (evs: KeyValue[], types: number[], header: ResponseHeader) => boolean,
): Promise<void> {
  if (signal.aborted) throw canceled();
  const ws = await s.watchSession();
  await new Promise<void>((resolve, reject) => {
    let finished = false;
    const h = ws.watch({ key, rangeEnd: end ?? undefined, startRevision: rev }, (r) => {
      if (finished || r.events.length === 0) return;
      if (onEvents(r.events.map((e) => e.kv), r.events.map((e) => e.type), r.header)) finish();
    });
    const onAbort = (): void => finish(canceled());
    const finish = (err?: unknown): void => {
      if (finished) return;
      finished = true;
      signal.removeEventListener('abort', onAbort);
      h.cancel();
      if (err === undefined) resolve();
      else reject(err);
    };
    signal.addEventListener('abort', onAbort);
    void h.done.then((r) => {
      if (r === null) finish(canceled());
      else finish(new ClientError(11, r.compact_revision !== 0n ? ConcurrencyErrors.Compacted : r.cancel_reason || ConcurrencyErrors.LostWatcher));
    });
  });
}

/** concurrency waitDeletes: until no key under `prefix` has a create revision ≤ maxCreateRev. */
async function waitDeletes(s: Session, prefix: Buffer, maxCreateRev: bigint, signal: AbortSignal): Promise<ResponseHeader> {
  for (;;) {
    if (signal.aborted) throw canceled();
    const r = await s.client.range(byCreate(prefix, 'last', maxCreateRev));
    const last = r.resp.kvs[0];
    if (last === undefined) return r.resp.header;
    await watchUntil(s, last.key, null, r.resp.header.revision, signal, (_kvs, types) => types.includes(EventType.DELETE));
  }
}

/** concurrency.Mutex. */
export class Mutex {
  readonly prefix: Buffer;
  key = Buffer.alloc(0);
  /** The header of the request that found the lock held (etcdctl prints its revision). */
  header: ResponseHeader | null = null;

  constructor(
    private readonly s: Session,
    name: Buffer,
  ) {
    this.prefix = Buffer.concat([name, Buffer.from('/')]);
  }

  async lock(signal: AbortSignal): Promise<void> {
    const c = this.s.client;
    this.key = Buffer.concat([this.prefix, Buffer.from(goHex(this.s.lease))]);
    const owner = get(byCreate(this.prefix, 'first'));
    const r = await c.txn({
      compare: [createRevIs(this.key, 0n)],
      success: [put(this.key, Buffer.alloc(0), this.s.lease), owner],
      failure: [get(emptyRangeRequest(this.key)), owner],
    });
    const mine = r.resp.succeeded ? r.resp.header.revision : (r.resp.responses[0]?.response_range?.kvs[0] as KeyValue).create_revision;
    const first = r.resp.responses[1]?.response_range?.kvs[0];
    if (first === undefined || first.create_revision === mine) {
      this.header = r.resp.header;
      return;
    }
    try {
      this.header = await waitDeletes(this.s, this.prefix, mine - 1n, signal);
    } catch (e) {
      await this.unlock().catch(() => undefined);
      throw e;
    }
  }

  async unlock(): Promise<void> {
    await this.s.client.deleteRange({ key: this.key });
  }
}

/** What Observe reports: the leader's key-value and the header it was seen with. */
export interface LeaderView {
  header: ResponseHeader;
  kv: KeyValue;
}

/** concurrency.Election. */
export class Election {
  readonly prefix: Buffer;
  key = Buffer.alloc(0);
  rev = 0n;

  constructor(
    private readonly s: Session,
    name: Buffer,
  ) {
    this.prefix = Buffer.concat([name, Buffer.from('/')]);
  }

  async campaign(value: Buffer, signal: AbortSignal): Promise<void> {
    const c = this.s.client;
    const key = Buffer.concat([this.prefix, Buffer.from(goHex(this.s.lease))]);
    const r = await c.txn({ compare: [createRevIs(key, 0n)], success: [put(key, value, this.s.lease)], failure: [get(emptyRangeRequest(key))] });
    this.key = key;
    this.rev = r.resp.header.revision;
    if (!r.resp.succeeded) {
      const kv = r.resp.responses[0]?.response_range?.kvs[0] as KeyValue;
      this.rev = kv.create_revision;
      if (!kv.value.equals(value)) {
        try {
          await this.proclaim(value);
        } catch (e) {
          await this.resign().catch(() => undefined);
          throw e;
        }
      }
    }
    try {
      await waitDeletes(this.s, this.prefix, this.rev - 1n, signal);
    } catch (e) {
      if (signal.aborted) await this.resign().catch(() => undefined);
      throw e;
    }
  }

  async proclaim(value: Buffer): Promise<void> {
    const r = await this.s.client.txn({ compare: [createRevIs(this.key, this.rev)], success: [put(this.key, value, this.s.lease)], failure: [] });
    if (!r.resp.succeeded) throw new ClientError(2, ConcurrencyErrors.NotLeader);
  }

  async resign(): Promise<void> {
    if (this.key.length === 0) return;
    await this.s.client.txn({ compare: [createRevIs(this.key, this.rev)], success: [del(this.key)], failure: [] });
    this.key = Buffer.alloc(0);
  }

  /**
   * concurrency Election.Observe: the current leader, each new value it proclaims, and the next
   * leader after it goes; resolves when `signal` fires, rejects when a read or watch fails
   * (etcdctl: "elect: observer lost").
   */
  async observe(signal: AbortSignal, onLeader: (v: LeaderView) => void): Promise<void> {
    const c = this.s.client;
    try {
      while (!signal.aborted) {
        const r = await c.range(byCreate(this.prefix, 'first'));
        let view: LeaderView | null = r.resp.kvs[0] ? { header: r.resp.header, kv: r.resp.kvs[0] } : null;
        if (view === null) {
          await watchUntil(this.s, this.prefix, Buffer.from(prefixEnd(this.prefix)), r.resp.header.revision, signal, (kvs, types, header) => {
            const i = types.indexOf(EventType.PUT);
            if (i < 0) return false;
            const kv = kvs[i] as KeyValue;
            view = { header: { ...header, revision: kv.mod_revision }, kv };
            return true;
          });
        }
        const leader = view as unknown as LeaderView;
        onLeader(leader);
        await watchUntil(this.s, leader.kv.key, null, leader.header.revision + 1n, signal, (kvs, types, header) => {
          for (let i = 0; i < kvs.length; i++) {
            if (types[i] === EventType.DELETE) return true;
            onLeader({ header, kv: kvs[i] as KeyValue });
          }
          return false;
        });
      }
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
  }
}

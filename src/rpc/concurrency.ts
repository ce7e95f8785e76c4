/**
 * The server side of etcd's concurrency recipes (clientv3/concurrency: session, mutex,
 * election), which etcd's v3lock and v3election services run through an in-process client.
 * Here they run against the member directly: the same transactions, ranges and watches, so the
 * keys, revisions and headers a client sees are etcd's.
 *
 * etcd's rules kept:
 * - a "session" for lease 0 grants a fresh lease of `sessionTtlSecondsDefault` and never keeps
 *   it alive (the service orphans its session at once), so a campaign or lock without a lease
 *   leaves a key that expires a minute later; any other lease is used as given, unchecked
 *   (a missing one fails the put: `etcdserver: requested lease not found`);
 * - a waiter's key is `<prefix><lease id in %x>`; the owner is the key with the lowest create
 *   revision under the prefix; a waiter waits, one predecessor at a time, for the deletion of
 *   the newest key created before its own (waitDeletes);
 * - if the caller goes away while waiting, the waiter's key is deleted (Unlock / Resign);
 * - every error reaches the client as gRPC Unknown with etcd's text (the services return plain
 *   Go errors, and errors of the inner client lose their code the same way).
 *
 * Invariants: every watch stream opened here is closed when its wait ends, whichever way; a
 * wait ends when the key is deleted, the watch is canceled, or the call is cancelled.
 */
import { EtcdError, GrpcCode, GrpcError } from '../api/errors.js';
import { CompareResult, CompareTarget, EventType, SortOrder, SortTarget, emptyRangeRequest, type Event, type KeyValue, type RangeRequest, type TxnResponse } from '../api/kv-types.js';
import { prefixEnd } from '../base/bytes.js';
import type { ResponseHeaderFields, ServerApi } from '../server/server-api.js';

/** What the recipes need of the member. */
export type ConcurrencyServer = Pick<ServerApi, 'txn' | 'range' | 'deleteRange' | 'leases' | 'header' | 'watchable'>;

/** concurrency.defaultSessionTTL (seconds). */
export const sessionTtlSecondsDefault = 60n;

/** Texts of etcd's plain errors (concurrency/election.go, v3election.go). */
export const ElectionErrors = {
  NotLeader: 'election: not leader',
  NoLeader: 'election: no leader',
  MissingLeaderKey: '"leader" field must be provided',
  Compacted: 'etcdserver: mvcc: required revision has been compacted',
  Cancelled: 'context canceled',
} as const;

/** A plain error as the client sees it: Unknown with the text. */
export function plainError(message: string): GrpcError {
  return new GrpcError(GrpcCode.Unknown, message);
}

/** Errors of the inner client keep their text and lose their code (etcd's services return them as they are). */
export function asPlain(e: unknown): unknown {
  if (e instanceof EtcdError) return plainError(e.message);
  if (e instanceof GrpcError && e.code !== GrpcCode.Unknown) return plainError(e.message);
  return e;
}

/** Go's %x of an int64 (a negative value keeps its sign). */
export function goHex(n: bigint): string {
  return n < 0n ? `-${(-n).toString(16)}` : n.toString(16);
}

/** The lease of a session: `lease` itself, or a fresh one for 0 (concurrency.NewSession). */
export async function sessionLease(server: ConcurrencyServer, lease: bigint): Promise<bigint> {
  if (lease !== 0n) return lease;
  const r = await server.leases.grant({ TTL: sessionTtlSecondsDefault, ID: 0n });
  return r.ID;
}

/** clientv3 WithFirstCreate / WithLastCreate on a prefix: the oldest / newest key by create revision. */
export function byCreate(prefix: Buffer, order: 'first' | 'last', maxCreateRev = 0n): RangeRequest {
  const r = emptyRangeRequest(prefix, Buffer.from(prefixEnd(prefix)));
  r.sort_target = SortTarget.CREATE;
  r.sort_order = order === 'first' ? SortOrder.ASCEND : SortOrder.DESCEND;
  r.limit = 1n;
  r.max_create_revision = maxCreateRev;
  return r;
}

/** The compare `create_revision(key) == rev`. */
export function createRevIs(key: Buffer, rev: bigint): TxnCompare {
  return { result: CompareResult.EQUAL, target: CompareTarget.CREATE, key, target_union: 'create_revision', create_revision: rev, range_end: Buffer.alloc(0) };
}

type TxnCompare = Parameters<ConcurrencyServer['txn']>[0]['compare'][number];

/** A cancellation signal for a call: set when the client goes away. */
export interface Cancel {
  readonly cancelled: boolean;
  onCancel(fn: () => void): void;
}

/**
 * Watches a key (end null) or the range [key, end) from `startRev` and hands each batch of events to `onEvents` until it
 * returns true (stop), the watch is canceled (compaction: rejects with etcd's text) or the
 * call is cancelled (rejects with `context canceled`).
 */
export function watchKey(
  server: ConcurrencyServer,
  key: Buffer,
  end: Buffer | null,
  startRev: bigint,
  cancel: Cancel,
  onEvents: (events: Event[], rev: bigint) => boolean,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stream = server.watchable.newStream();
    let done = false;
    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      stream.close();
      if (err === undefined) resolve();
      else reject(err);
    };
    stream.onReady = () => {
      if (done) return;
      // Drained in a microtask: onReady may be called while the store is mid-delivery.
      queueMicrotask(() => {
        for (let o = stream.shift(); o !== undefined && !done; o = stream.shift()) {
          if (o.canceled) return finish(plainError(o.compactRevision !== 0n ? ElectionErrors.Compacted : o.cancelReason || ElectionErrors.Cancelled));
          if (o.events.length > 0 && onEvents(o.events, o.rev)) return finish();
        }
      });
    };
    cancel.onCancel(() => finish(plainError(ElectionErrors.Cancelled)));
    if (done) return;
    stream.create({ watchId: 0n, key, end, startRev, noPut: false, noDelete: false, prevKv: false, progressNotify: false, fragment: false });
  });
}

/** concurrency waitDelete: until `key` is deleted at or after `rev`. */
function waitDelete(server: ConcurrencyServer, key: Buffer, rev: bigint, cancel: Cancel): Promise<void> {
  return watchKey(server, key, null, rev, cancel, (evs) => evs.some((e) => e.type === EventType.DELETE));
}

/**
 * concurrency waitDeletes: until no key under `prefix` has a create revision ≤ maxCreateRev;
 * the header of the last range read.
 */
export async function waitDeletes(server: ConcurrencyServer, prefix: Buffer, maxCreateRev: bigint, cancel: Cancel): Promise<{ revision: bigint }> {
  for (;;) {
    if (cancel.cancelled) throw plainError(ElectionErrors.Cancelled);
    const r = await server.range(byCreate(prefix, 'last', maxCreateRev));
    const last = r.kvs[0];
    if (last === undefined) return r.header;
    await waitDelete(server, last.key, r.header.revision, cancel);
  }
}

/** The first range response of a txn's responses (as clientv3's GetResponseRange). */
export function rangeOf(resp: TxnResponse, i: number): KeyValue[] {
  return resp.responses[i]?.response_range?.kvs ?? [];
}

/** Header fields for a revision. */
export function headerAt(server: ConcurrencyServer, rev: bigint): ResponseHeaderFields {
  return server.header(rev);
}

/** A Cancel from a call context (the call's cancellation and deadline). */
export function cancelOf(ctx: { readonly cancelled: boolean; onCancel(fn: () => void): void }): Cancel {
  return ctx;
}

type TxnOp = Parameters<ConcurrencyServer['txn']>[0]['success'][number];

export function putOp(key: Buffer, value: Buffer, lease: bigint): TxnOp {
  return { request: 'request_put', request_put: { key, value, lease, prev_kv: false, ignore_value: false, ignore_lease: false } };
}

export function getOp(r: RangeRequest): TxnOp {
  return { request: 'request_range', request_range: r };
}

export function deleteOp(key: Buffer): TxnOp {
  return { request: 'request_delete_range', request_delete_range: { key, range_end: Buffer.alloc(0), prev_kv: false } };
}

/**
 * What the fault harness checks once the faults are healed:
 * - no member is stuck: each serves a linearizable read within a deadline;
 * - members converge: equal HashKV at an equal revision (Maintenance API);
 * - the MVCC history (a watch from revision 1 through every member) is the same on every
 *   member, holds every acknowledged write at the revision it was acknowledged with, holds no
 *   write nobody made, and no write twice.
 * The linearizability of the client history is checked by the caller (kv-history.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { MaintenanceClient, WatchClient } from '../../src/api/proto.js';
import type { KvOp } from '../../test/helpers/kv-history.js';
import type { Member } from './members.js';
import { channelOptions, errorText } from './workload.js';

type Callback = (e: grpc.ServiceError | null, r: unknown) => void;

export interface HashKvAnswer {
  hash: number;
  revision: bigint;
  compactRevision: bigint;
}

export function hashKv(m: Member, timeoutMs = 5000): Promise<HashKvAnswer> {
  const c = new MaintenanceClient(m.endpoint, grpc.credentials.createInsecure(), channelOptions) as unknown as grpc.Client &
    Record<string, (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: Callback) => void>;
  return new Promise((resolve, reject) => {
    (c.HashKV as (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: Callback) => void).call(c, { revision: '0' }, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => {
      c.close();
      if (e) return reject(e);
      const x = r as { hash: number; compact_revision: string; header: { revision: string } };
      resolve({ hash: x.hash, revision: BigInt(x.header.revision), compactRevision: BigInt(x.compact_revision) });
    });
  });
}

/** Maintenance.Status: this member's id and the leader it follows (decimal strings). */
export function memberStatus(m: Member, timeoutMs: number): Promise<{ memberId: string; leader: string }> {
  const c = new MaintenanceClient(m.endpoint, grpc.credentials.createInsecure(), channelOptions) as unknown as grpc.Client &
    Record<string, (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: Callback) => void>;
  return new Promise((resolve, reject) => {
    (c.Status as (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: Callback) => void).call(c, {}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => {
      c.close();
      if (e) return reject(e);
      const x = r as { leader: string; header: { member_id: string } };
      resolve({ memberId: x.header.member_id, leader: x.leader });
    });
  });
}

export interface WatchedEvent {
  type: 'PUT' | 'DELETE';
  key: string;
  value: string;
  modRevision: bigint;
}

/** Every event under `prefix` from revision 1 through `until`, as `m` reports them. */
export function watchHistory(m: Member, prefix: string, until: bigint, timeoutMs = 30_000): Promise<WatchedEvent[]> {
  const c = new WatchClient(m.endpoint, grpc.credentials.createInsecure(), channelOptions) as unknown as grpc.Client & {
    Watch(md: grpc.Metadata, o: grpc.CallOptions): grpc.ClientDuplexStream<unknown, unknown>;
  };
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return new Promise((resolve, reject) => {
    const events: WatchedEvent[] = [];
    const stream = c.Watch(new grpc.Metadata(), { deadline: Date.now() + timeoutMs });
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      stream.cancel();
      c.close();
      if (err) reject(err);
      else resolve(events);
    };
    stream.on('data', (r: unknown) => {
      const resp = r as { canceled: boolean; cancel_reason: string; compact_revision: string; events: { type: number; kv: { key: Buffer; value: Buffer; mod_revision: string } }[] };
      if (resp.canceled) return finish(new Error(`watch canceled: ${resp.cancel_reason} (compact revision ${resp.compact_revision})`));
      for (const e of resp.events) {
        events.push({ type: e.type === 1 ? 'DELETE' : 'PUT', key: e.kv.key.toString(), value: e.kv.value.toString(), modRevision: BigInt(e.kv.mod_revision) });
      }
      const last = events[events.length - 1];
      if (last !== undefined && last.modRevision >= until) finish();
    });
    stream.on('error', (e: Error) => finish(new Error(`watch: ${errorText(e)}`)));
    stream.on('end', () => finish(new Error('watch ended early')));
    if (until <= 1n) return finish();
    stream.write({ create_request: { key: Buffer.from(prefix), range_end: end, start_revision: '1' } });
  });
}

/** The acknowledged writes with the revision they answered. */
function acknowledgedWrites(history: readonly KvOp[]): { op: KvOp; rev: bigint; value: string | null }[] {
  const out: { op: KvOp; rev: bigint; value: string | null }[] = [];
  for (const op of history) {
    const o = op.output;
    if (o === undefined || o.header === undefined) continue;
    if (op.input.f === 'put' && o.f === 'put') out.push({ op, rev: o.header, value: op.input.value });
    else if (op.input.f === 'cas' && o.f === 'cas' && o.succeeded) out.push({ op, rev: o.header, value: op.input.value });
    else if (op.input.f === 'delete' && o.f === 'delete' && o.deleted) out.push({ op, rev: o.header, value: null });
  }
  return out;
}

export interface DurabilityReport {
  acknowledged: number;
  lost: string[];
  phantom: string[];
  duplicated: string[];
  events: number;
}

/** Checks one member's MVCC history against the client history. */
export function checkDurability(history: readonly KvOp[], events: readonly WatchedEvent[], max = 5): DurabilityReport {
  const byRev = new Map<bigint, WatchedEvent>();
  for (const e of events) byRev.set(e.modRevision, e);
  const acked = acknowledgedWrites(history);
  const lost: string[] = [];
  for (const w of acked) {
    const e = byRev.get(w.rev);
    const ok = e !== undefined && e.key === w.op.key && (w.value === null ? e.type === 'DELETE' : e.type === 'PUT' && e.value === w.value);
    if (!ok && lost.length < max) {
      lost.push(`acknowledged at revision ${w.rev}: ${w.op.key} ${w.value === null ? 'delete' : `= ${JSON.stringify(w.value)}`} (op #${w.op.id}); the history has ${e ? `${e.type} ${e.key} ${JSON.stringify(e.value)}` : 'nothing'} there`);
    }
  }
  const written = new Map<string, string>();
  for (const op of history) if (op.input.f === 'put' || op.input.f === 'cas') written.set(op.input.value, op.key);
  const phantom: string[] = [];
  const duplicated: string[] = [];
  const seen = new Map<string, bigint>();
  for (const e of events) {
    if (e.type !== 'PUT') continue;
    if (written.get(e.value) !== e.key && phantom.length < max) phantom.push(`revision ${e.modRevision}: ${e.key} = ${JSON.stringify(e.value)}, which no client wrote to that key`);
    const prev = seen.get(e.value);
    if (prev !== undefined && duplicated.length < max) duplicated.push(`${JSON.stringify(e.value)} written at revision ${prev} and again at ${e.modRevision}`);
    seen.set(e.value, e.modRevision);
  }
  return { acknowledged: acked.length, lost, phantom, duplicated, events: events.length };
}

export function sameEvents(a: readonly WatchedEvent[], b: readonly WatchedEvent[]): string | null {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || x.type !== y.type || x.key !== y.key || x.value !== y.value || x.modRevision !== y.modRevision) {
      const show = (e: WatchedEvent | undefined): string => (e ? `${e.type} ${e.key} ${JSON.stringify(e.value)} @${e.modRevision}` : 'nothing');
      return `event ${i + 1}: ${show(x)} vs ${show(y)}`;
    }
  }
  return null;
}

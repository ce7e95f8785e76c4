/**
 * The fault harness's clients: each one bound to one member (so a partition cuts some clients
 * off with their member, as in Jepsen), one operation at a time, on a few keys: linearizable
 * gets, puts, deletes and compare-and-swap txns (compare mod_revision or value, then put), each
 * recorded with real-time call and return instants into a history for the checker. Every
 * written value is unique, so a read names the write it saw.
 *
 * A write that fails counts as possibly applied (no output, no return), except when grpc-js
 * failed it before it was ever sent (no connection to pick). A read that fails had no effect
 * and is left out of the history (it still counts for availability).
 */
import * as grpc from '@grpc/grpc-js';
import { KVClient } from '../../src/api/proto.js';
import type { SeededRand } from '../../src/base/random.js';
import type { KvInput, KvOp, KvOutput } from '../../test/helpers/kv-history.js';
import type { Member } from './members.js';

type Callback = (e: grpc.ServiceError | null, r: unknown) => void;
type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => void;

export const channelOptions: grpc.ChannelOptions = {
  // A restarted member is found again within a second (grpc-js backs off up to 2 min by default).
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  // One connection per client, not one shared by all clients of a member.
  'grpc.use_local_subchannel_pool': 1,
};

export class KvConn {
  private readonly c: grpc.Client & Record<string, Unary>;
  constructor(readonly member: Member) {
    this.c = new KVClient(member.endpoint, grpc.credentials.createInsecure(), channelOptions) as never;
  }
  call<T>(method: string, req: unknown, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = this.c[method] as Unary;
      fn.call(this.c, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r as T)));
    });
  }
  close(): void {
    this.c.close();
  }
}

interface WireKv {
  key: Buffer;
  value: Buffer;
  mod_revision: string;
}
interface Header {
  header: { revision: string } | null;
}

export interface OpRecord {
  call: number;
  ret: number;
  ok: boolean;
  write: boolean;
}

export function errorText(e: unknown): string {
  const se = e as Partial<grpc.ServiceError>;
  if (typeof se.code === 'number') return `${grpc.status[se.code] ?? se.code}: ${se.details ?? ''}`.slice(0, 160);
  return String(e).slice(0, 160);
}

/** grpc-js failed the call before sending it: there was no connection to send it on. */
function neverSent(e: unknown): boolean {
  const se = e as Partial<grpc.ServiceError>;
  return se.code === grpc.status.UNAVAILABLE && /No connection established/.test(se.details ?? '');
}

const modTarget = 2; // Compare.CompareTarget.MOD
const valueTarget = 3; // Compare.CompareTarget.VALUE

/** One operation through `conn`, as the checker's input and output (throws on failure). */
export async function runOp(conn: KvConn, key: string, input: KvInput, timeoutMs: number): Promise<KvOutput> {
  const k = Buffer.from(key);
  const rev = (h: Header): bigint | undefined => (h.header ? BigInt(h.header.revision) : undefined);
  switch (input.f) {
    case 'get': {
      const r = await conn.call<Header & { kvs: WireKv[] }>('Range', { key: k, serializable: false }, timeoutMs);
      const kv = r.kvs[0];
      return { f: 'get', value: kv ? kv.value.toString() : null, modRevision: kv ? BigInt(kv.mod_revision) : undefined, header: rev(r) };
    }
    case 'put': {
      const r = await conn.call<Header>('Put', { key: k, value: Buffer.from(input.value) }, timeoutMs);
      return { f: 'put', header: rev(r) };
    }
    case 'delete': {
      const r = await conn.call<Header & { deleted: string }>('DeleteRange', { key: k }, timeoutMs);
      return { f: 'delete', deleted: BigInt(r.deleted) > 0n, header: rev(r) };
    }
    case 'cas': {
      const compare =
        input.ifValue !== undefined
          ? { key: k, result: 0, target: valueTarget, value: Buffer.from(input.ifValue) }
          : { key: k, result: 0, target: modTarget, mod_revision: String(input.ifModRevision ?? 0n) };
      const r = await conn.call<Header & { succeeded: boolean }>(
        'Txn',
        { compare: [compare], success: [{ request_put: { key: k, value: Buffer.from(input.value) } }], failure: [] },
        timeoutMs,
      );
      return { f: 'cas', succeeded: r.succeeded, header: rev(r) };
    }
  }
}

export interface WorkloadOptions {
  clients: number;
  keys: string[];
  members: Member[];
  opTimeoutMs: number;
  /** Mean pause between one client's operations. */
  thinkMs: number;
  rand: SeededRand;
  now: () => number;
}

export class Workload {
  readonly history: KvOp[] = [];
  readonly records: OpRecord[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];
  private nextId = 1;
  private readonly conns: KvConn[] = [];

  constructor(private readonly o: WorkloadOptions) {}

  start(): void {
    for (let c = 0; c < this.o.clients; c++) {
      const conn = new KvConn(this.o.members[c % this.o.members.length] as Member);
      this.conns.push(conn);
      this.loops.push(this.client(c, conn));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    for (const c of this.conns) c.close();
  }

  /** Records one operation into the history (also used for the final reads). */
  async record(client: number, conn: KvConn, key: string, input: KvInput, timeoutMs: number): Promise<KvOutput | undefined> {
    const id = this.nextId++;
    const call = this.o.now();
    try {
      const output = await runOp(conn, key, input, timeoutMs);
      const ret = this.o.now();
      this.history.push({ id, client, key, input, output, call, ret, member: conn.member.name });
      this.records.push({ call, ret, ok: true, write: input.f !== 'get' });
      return output;
    } catch (e) {
      const ret = this.o.now();
      this.records.push({ call, ret, ok: false, write: input.f !== 'get' });
      if (input.f !== 'get' && !neverSent(e)) this.history.push({ id, client, key, input, call, member: conn.member.name, error: errorText(e) });
      return undefined;
    }
  }

  private async client(c: number, conn: KvConn): Promise<void> {
    const r = this.o.rand;
    const known = new Map<string, { value: string | null; mod: bigint }>();
    let seq = 0;
    while (!this.stopping) {
      const key = this.o.keys[r.int(this.o.keys.length)] as string;
      const roll = r.next();
      const value = `c${c}-${++seq}`;
      const k = known.get(key);
      let input: KvInput;
      if (roll < 0.45) input = { f: 'get' };
      else if (roll < 0.65) input = { f: 'put', value };
      else if (roll < 0.7) input = { f: 'delete' };
      else if (k !== undefined && k.value !== null && r.next() < 0.4) input = { f: 'cas', ifValue: k.value, value };
      else input = { f: 'cas', ifModRevision: k?.mod ?? 0n, value };
      const out = await this.record(c, conn, key, input, this.o.opTimeoutMs);
      if (out?.f === 'get') known.set(key, { value: out.value, mod: out.value === null ? 0n : (out.modRevision ?? 0n) });
      else if ((out?.f === 'put' || (out?.f === 'cas' && out.succeeded)) && input.f !== 'get' && input.f !== 'delete' && out.header !== undefined) {
        known.set(key, { value: input.value, mod: out.header });
      }
      const pause = out === undefined ? 50 + r.next() * 100 : r.next() * 2 * this.o.thinkMs;
      if (pause > 0) await new Promise((res) => setTimeout(res, pause));
    }
  }
}

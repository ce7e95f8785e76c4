/**
 * An in-memory KvEngine (kv-engine.ts) with LevelDB's durability model, for the whole-member
 * simulator: its I/O completes when the injected MemoryIo says, and crash() leaves what a crash
 * would (memory-io.ts).
 *
 * MemoryEngineStore is the "directory": it outlives the process. open() gives the process a
 * handle; crash() fences that handle (nothing it started completes, nothing it does later has
 * any effect) and keeps, of the writes not yet durable, a prefix in issue order — as LevelDB's
 * log replays up to its first torn record. A sync write makes itself and every earlier write
 * durable (LevelDB fsyncs its one log).
 *
 * The visible state is a sorted array of keys (latin1 strings order as bytes do) and a map of
 * values, shared copy-on-write with iterators and snapshots, so an iterator reads the state of
 * its creation. Writes complete one at a time in issue order; a write is visible once it has
 * completed, just before its promise resolves.
 */
import { assert } from '../base/assert.js';
import type { Rand } from '../base/random.js';
import type { BatchOp, EngineIterator, EngineRange, EngineSnapshot, KvEngine } from './kv-engine.js';
import { immediateIo, keptPrefix, never, type CrashKind, type MemoryIo } from './memory-io.js';

interface Pending {
  ops: BatchOp[];
  sync: boolean;
  done: boolean;
}

interface View {
  keys: string[];
  vals: Map<string, Buffer>;
}

const str = (b: Buffer): string => b.toString('latin1');

/** First position in `keys` whose key is ≥ k. */
function lowerBound(keys: string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function applyOps(view: View, ops: BatchOp[]): void {
  for (const op of ops) {
    const k = str(op.key);
    const has = view.vals.has(k);
    if (op.type === 'put') {
      if (!has) view.keys.splice(lowerBound(view.keys, k), 0, k);
      view.vals.set(k, Buffer.from(op.value));
    } else if (has) {
      view.keys.splice(lowerBound(view.keys, k), 1);
      view.vals.delete(k);
    }
  }
}

function copyOps(ops: BatchOp[]): BatchOp[] {
  return ops.map((o) => (o.type === 'put' ? { type: 'put', key: Buffer.from(o.key), value: Buffer.from(o.value) } : { type: 'del', key: Buffer.from(o.key) }));
}

export interface CrashOutcome {
  /** Writes not yet durable at the crash. */
  pending: number;
  /** Of those, how many survived (a prefix). */
  kept: number;
}

export class MemoryEngineStore {
  private durable: View = { keys: [], vals: new Map() };
  /** Writes issued and not yet durable, in issue order (completed ones first). */
  private pending: Pending[] = [];
  private handle: MemoryEngine | null = null;

  /** Opens the engine for a process; one handle at a time. */
  open(io: MemoryIo = immediateIo): MemoryEngine {
    assert(this.handle === null || !this.handle.isOpen, 'memory engine opened twice');
    const view: View = { keys: [...this.durable.keys], vals: new Map(this.durable.vals) };
    for (const p of this.pending) if (p.done) applyOps(view, p.ops);
    this.handle = new MemoryEngine(this, io, view);
    return this.handle;
  }

  /** The process holding the engine died (see the header). */
  crash(kind: CrashKind, rand: Rand): CrashOutcome {
    this.handle?.fence();
    this.handle = null;
    const n = this.pending.length;
    // After a process crash every completed write is in the OS's hands; the next one may or
    // may not have reached it. After a power loss, any prefix of the non-durable ones.
    const done = this.pending.filter((p) => p.done).length;
    const kept = kind === 'process' ? done + (done < n ? rand.int(2) : 0) : keptPrefix(rand, n);
    for (const p of this.pending.slice(0, kept)) applyOps(this.durable, p.ops);
    this.pending = [];
    return { pending: n, kept };
  }

  /** @internal */
  issue(ops: BatchOp[], sync: boolean): Pending {
    const p: Pending = { ops: copyOps(ops), sync, done: false };
    this.pending.push(p);
    return p;
  }

  /** @internal A write completed: a sync one makes it and every earlier write durable. */
  completed(p: Pending): void {
    p.done = true;
    if (!p.sync) return;
    const k = this.pending.indexOf(p);
    assert(k >= 0, 'completed write not pending');
    for (const q of this.pending.slice(0, k + 1)) applyOps(this.durable, q.ops);
    this.pending = this.pending.slice(k + 1);
  }

  /** Keys durable now (tests). */
  durableKeys(): number {
    return this.durable.keys.length;
  }
}

class MemorySnapshot implements EngineSnapshot {
  constructor(readonly view: View) {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class MemoryEngine implements KvEngine {
  private open = true;
  private dead = false;
  /** Iterators or snapshots hold the current arrays: copy before the next change. */
  private shared = false;
  private readonly queue: { p: Pending; resolve: () => void }[] = [];
  private writing = false;

  constructor(
    private readonly store: MemoryEngineStore,
    private readonly io: MemoryIo,
    private view: View,
  ) {}

  get isOpen(): boolean {
    return this.open && !this.dead;
  }

  /** @internal The process died: nothing started completes, nothing later has an effect. */
  fence(): void {
    this.dead = true;
    this.open = false;
  }

  getSync(key: Buffer): Buffer | undefined {
    const v = this.view.vals.get(str(key));
    return v === undefined ? undefined : Buffer.from(v);
  }

  write(ops: BatchOp[], sync: boolean): Promise<void> {
    if (this.dead) return never();
    assert(this.open, 'write to a closed memory engine');
    const p = this.store.issue(ops, sync);
    return new Promise<void>((resolve) => {
      this.queue.push({ p, resolve });
      this.next();
    });
  }

  private next(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const w = this.queue.shift() as { p: Pending; resolve: () => void };
    this.io.complete('write', () => {
      if (this.dead) return;
      if (this.shared) {
        this.view = { keys: [...this.view.keys], vals: new Map(this.view.vals) };
        this.shared = false;
      }
      applyOps(this.view, w.p.ops);
      this.store.completed(w.p);
      this.writing = false;
      w.resolve();
      this.next();
    });
  }

  private read<T>(fn: () => T): Promise<T> {
    if (this.dead) return never();
    return new Promise<T>((resolve) => this.io.complete('read', () => void (this.dead ? undefined : resolve(fn()))));
  }

  iterator(range: EngineRange): EngineIterator {
    const view = range.snapshot instanceof MemorySnapshot ? range.snapshot.view : this.view;
    this.shared = true;
    const lt = str(range.lt);
    let pos = lowerBound(view.keys, str(range.gte));
    return {
      nextv: (n: number) =>
        this.read(() => {
          const out: [Buffer, Buffer][] = [];
          while (out.length < n && pos < view.keys.length) {
            const k = view.keys[pos] as string;
            if (k >= lt) {
              pos = view.keys.length;
              break;
            }
            out.push([Buffer.from(k, 'latin1'), Buffer.from(view.vals.get(k) as Buffer)]);
            pos++;
          }
          return out;
        }),
      close: () => Promise.resolve(),
    };
  }

  async keys(gte: Buffer, lt: Buffer, limit: number): Promise<Buffer[]> {
    const it = this.iterator({ gte, lt });
    return (await it.nextv(limit)).map(([k]) => k);
  }

  snapshot(): EngineSnapshot {
    this.shared = true;
    return new MemorySnapshot(this.view);
  }

  approximateSize(gte: Buffer, lt: Buffer): Promise<number> {
    const view = this.view;
    return this.read(() => {
      let n = 0;
      const end = str(lt);
      for (let i = lowerBound(view.keys, str(gte)); i < view.keys.length && (view.keys[i] as string) < end; i++) {
        n += (view.keys[i] as string).length + (view.vals.get(view.keys[i] as string) as Buffer).length;
      }
      return n;
    });
  }

  compactRange(): Promise<void> {
    return this.read(() => undefined);
  }

  sizeOnDisk(): number {
    let n = 0;
    for (const [k, v] of this.view.vals) n += k.length + v.length;
    return n;
  }

  logBytes(): number {
    return 0;
  }

  close(): Promise<void> {
    if (this.dead) return never();
    this.open = false;
    return this.read(() => undefined);
  }
}

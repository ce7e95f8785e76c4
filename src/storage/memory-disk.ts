/**
 * An in-memory Disk (disk.ts) with POSIX's durability model, for the whole-member simulator:
 * its I/O completes when the injected MemoryIo says, and crash() leaves what a crash would
 * (memory-io.ts).
 *
 * MemoryVolume holds the files and outlives the process; mount() gives a process its Disk
 * handle, which crash() fences (nothing it started completes, nothing it does later has any
 * effect). Each file keeps its durable bytes and, beside them, the writes not yet durable: the
 * ones in flight and, for a file not opened O_DSYNC, the completed ones since the last sync.
 * A crash keeps a prefix of each such write — of an in-flight O_DSYNC write of WAL records that
 * is a torn tail — in the order they were issued.
 *
 * Simplifications (each on the safe side of what the WAL may assume): directory operations
 * (create, rename, remove) are durable at once; truncate makes the file's earlier writes
 * durable first, then cuts or extends it (with zeros) durably.
 */
import path from 'node:path';
import { assert } from '../base/assert.js';
import type { Rand } from '../base/random.js';
import type { Disk, DiskFile, OpenMode } from './disk.js';
import { immediateIo, keptPrefix, never, type CrashKind, type MemoryIo } from './memory-io.js';

interface Write {
  pos: number;
  data: Buffer;
  done: boolean;
}

interface MemFile {
  durable: Buffer;
  /** What reads see: durable plus every completed write. */
  current: Buffer;
  /** Writes not yet durable, in issue order. */
  unsynced: Write[];
}

function enoent(what: string, p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, ${what} '${p}'`), { code: 'ENOENT' });
}

function writeAt(buf: Buffer, pos: number, data: Buffer): Buffer {
  const out = pos + data.length > buf.length ? Buffer.concat([buf, Buffer.alloc(pos + data.length - buf.length)]) : buf;
  data.copy(out, pos);
  return out;
}

function resized(buf: Buffer, len: number): Buffer {
  if (len <= buf.length) return Buffer.from(buf.subarray(0, len));
  return Buffer.concat([buf, Buffer.alloc(len - buf.length)]);
}

export interface DiskCrashOutcome {
  /** Writes not yet durable at the crash, and the bytes of them that survived. */
  writes: number;
  bytesKept: number;
  bytesLost: number;
}

export class MemoryVolume {
  readonly files = new Map<string, MemFile>();
  private readonly dirs = new Set<string>(['/', '.']);
  private handle: MemoryDisk | null = null;

  mount(io: MemoryIo = immediateIo): MemoryDisk {
    assert(this.handle === null || this.handle.dead, 'memory volume mounted twice');
    this.handle = new MemoryDisk(this, io);
    return this.handle;
  }

  /** The process using the volume died (see the header). */
  crash(kind: CrashKind, rand: Rand): DiskCrashOutcome {
    this.handle?.fence();
    this.handle = null;
    const out: DiskCrashOutcome = { writes: 0, bytesKept: 0, bytesLost: 0 };
    for (const f of this.files.values()) {
      for (const w of f.unsynced) {
        out.writes++;
        // A completed write survives a process crash (the OS has it); an in-flight one, or
        // anything not synced when the power goes, lands in part.
        const keep = kind === 'process' && w.done ? w.data.length : keptPrefix(rand, w.data.length);
        if (keep > 0) f.durable = writeAt(f.durable, w.pos, w.data.subarray(0, keep));
        out.bytesKept += keep;
        out.bytesLost += w.data.length - keep;
      }
      f.unsynced = [];
      f.current = Buffer.from(f.durable);
    }
    return out;
  }

  /** @internal */
  mkdirp(dir: string): void {
    for (let d = path.resolve(dir); !this.dirs.has(d); d = path.dirname(d)) this.dirs.add(d);
  }

  /** @internal */
  hasDir(dir: string): boolean {
    return this.dirs.has(path.resolve(dir));
  }

  /** @internal */
  file(p: string, what: string): MemFile {
    const f = this.files.get(path.resolve(p));
    if (f === undefined) throw enoent(what, p);
    return f;
  }

  /** @internal truncate: earlier writes become durable, then the size changes durably. */
  truncate(f: MemFile, len: number): void {
    assert(f.unsynced.every((w) => w.done), 'truncate with a write in flight');
    f.durable = resized(f.current, len);
    f.current = Buffer.from(f.durable);
    f.unsynced = [];
  }
}

class MemoryFile implements DiskFile {
  private readonly queue: (() => void)[] = [];
  private busy = false;

  constructor(
    private readonly disk: MemoryDisk,
    private readonly f: MemFile,
    private readonly dsync: boolean,
  ) {}

  /** Operations on one file complete one at a time, in issue order. */
  private op(run: () => void): Promise<void> {
    if (this.disk.dead) return never();
    return new Promise<void>((resolve) => {
      this.queue.push(() => {
        run();
        resolve();
      });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const job = this.queue.shift() as () => void;
    this.disk.io.complete('write', () => {
      if (this.disk.dead) return;
      this.busy = false;
      job();
      this.pump();
    });
  }

  write(buf: Uint8Array, pos: number): Promise<void> {
    if (this.disk.dead) return never();
    const w: Write = { pos, data: Buffer.from(buf), done: false };
    this.f.unsynced.push(w);
    return this.op(() => {
      w.done = true;
      this.f.current = writeAt(this.f.current, pos, w.data);
      if (this.dsync) {
        this.f.durable = writeAt(this.f.durable, pos, w.data);
        this.f.unsynced.splice(this.f.unsynced.indexOf(w), 1);
      }
    });
  }

  truncate(len: number): Promise<void> {
    return this.op(() => this.disk.volume.truncate(this.f, len));
  }

  sync(): Promise<void> {
    return this.op(() => {
      // Every earlier write of this file has completed (one at a time, in order).
      this.f.durable = Buffer.from(this.f.current);
      this.f.unsynced = this.f.unsynced.filter((w) => !w.done);
    });
  }

  close(): Promise<void> {
    return this.op(() => undefined);
  }
}

export class MemoryDisk implements Disk {
  dead = false;

  constructor(
    readonly volume: MemoryVolume,
    readonly io: MemoryIo,
  ) {}

  /** @internal */
  fence(): void {
    this.dead = true;
  }

  private op<T>(fn: () => T): Promise<T> {
    if (this.dead) return never();
    return new Promise<T>((resolve, reject) =>
      this.io.complete('write', () => {
        if (this.dead) return;
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      }),
    );
  }

  mkdirp(dir: string): Promise<void> {
    return this.op(() => this.volume.mkdirp(dir));
  }

  list(dir: string): Promise<string[]> {
    return this.op(() => {
      const d = path.resolve(dir);
      if (!this.volume.hasDir(d)) throw enoent('scandir', dir);
      return [...this.volume.files.keys()].filter((p) => path.dirname(p) === d).map((p) => path.basename(p));
    });
  }

  readFile(file: string): Promise<Buffer> {
    return this.op(() => Buffer.from(this.volume.file(file, 'open').current));
  }

  open(file: string, mode: OpenMode): Promise<DiskFile> {
    return this.op(() => {
      const p = path.resolve(file);
      if (!this.volume.hasDir(path.dirname(p))) throw enoent('open', file);
      let f = this.volume.files.get(p);
      if (f === undefined) {
        if (!mode.create) throw enoent('open', file);
        f = { durable: Buffer.alloc(0), current: Buffer.alloc(0), unsynced: [] };
        this.volume.files.set(p, f);
      } else if (mode.create) this.volume.truncate(f, 0);
      return new MemoryFile(this, f, mode.dsync === true);
    });
  }

  truncate(file: string, len: number): Promise<void> {
    return this.op(() => this.volume.truncate(this.volume.file(file, 'truncate'), len));
  }

  rename(from: string, to: string): Promise<void> {
    return this.op(() => {
      const f = this.volume.file(from, 'rename');
      this.volume.files.delete(path.resolve(from));
      this.volume.files.set(path.resolve(to), f);
    });
  }

  remove(file: string): Promise<void> {
    return this.op(() => void this.volume.files.delete(path.resolve(file)));
  }

  syncDir(): Promise<void> {
    return this.op(() => undefined);
  }
}

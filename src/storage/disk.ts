/**
 * The files a member writes outside its KV engine — the write-ahead log's segments (wal.ts) and
 * incoming Raft snapshot files (server/state-snapshot.ts) — go through this interface, so that
 * a member runs on the real file system (nodeDisk, the default) or on the simulator's in-memory
 * disk (memory-disk.ts), whose writes can be torn or lost by a crash (issue 14).
 *
 * Contract of every implementation (POSIX's, which the WAL relies on):
 * - DiskFile.write writes ALL of the buffer at the position (a short write is continued, so
 *   that a full disk fails the call instead of leaving half a record taken for done);
 * - a file opened with `dsync` is durable when write resolves (O_DSYNC); any other file's writes
 *   are durable once sync() resolves; a crash may keep any prefix of a write not yet durable;
 * - mkdirp, rename, remove and truncate take effect at once; a directory entry is durable once
 *   syncDir of its directory resolved.
 */
import { closeSync, constants as fsConstants, fsyncSync, mkdirSync, openSync, readdirSync, write as fsWrite, writeSync } from 'node:fs';
import { open, readFile, rename, rm, truncate, type FileHandle } from 'node:fs/promises';
import { assert } from '../base/assert.js';

export interface DiskFile {
  write(buf: Uint8Array, pos: number): Promise<void>;
  truncate(len: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenMode {
  /** Create the file, or empty it if it exists (O_CREAT | O_TRUNC). */
  create?: boolean;
  /** Every write is durable when it resolves (O_DSYNC). */
  dsync?: boolean;
  /** Permission bits of a created file (default 0o666, less the umask). */
  mode?: number;
}

export interface Disk {
  mkdirp(dir: string): Promise<void>;
  /** Names in `dir` (not paths), in no particular order. */
  list(dir: string): Promise<string[]>;
  readFile(file: string): Promise<Buffer>;
  open(file: string, mode: OpenMode): Promise<DiskFile>;
  truncate(file: string, len: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; nothing if it is not there. */
  remove(file: string): Promise<void>;
  syncDir(dir: string): Promise<void>;
}

/** The write calls and clock NodeFile uses (a test replaces them to act out a full or slow disk). */
export const fileIo = { write: fsWrite, writeSync, now: (): number => performance.now() };

/**
 * A write of at most this many bytes to an O_DSYNC file runs on the calling thread, while such
 * writes are fast (inlineWriteSlowMs): handing it to libuv's threadpool and back cost more than
 * the overlap gained (measured with one client putting: 1 580 → 1 900 puts/s, p50 0.50 → 0.44
 * ms, CPU per put −10 %; with 10 clients +10–20 %; with 1000 clients, whose Readys are larger,
 * no change). etcd's raft loop likewise blocks on its WAL fsync.
 */
export const inlineWriteBytesMax = 64 * 1024;
/**
 * A write that took longer than this (a slow or busy disk) sends the file's next writes to the
 * threadpool, so that a slow disk never stalls the event loop — heartbeats, reads and leases go
 * on — until a write is fast again.
 */
export const inlineWriteSlowMs = 2;

class NodeFile implements DiskFile {
  /** Duration of the last write (ms): decides whether the next small one runs inline. */
  private lastWriteMs = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly dsync: boolean,
  ) {}

  write(buf: Uint8Array, pos: number): Promise<void> {
    // write() may write less than asked (a full disk writes what fits and returns the count;
    // the next call reports ENOSPC): taking a short count as done would acknowledge a torn
    // record, lost on restart. fs.write with a callback on the handle's fd: the WAL writes
    // once per Ready, and FileHandle.write's promise layers cost more than the call itself.
    const fd = this.fh.fd;
    const t0 = fileIo.now();
    if (this.dsync && buf.length <= inlineWriteBytesMax && this.lastWriteMs <= inlineWriteSlowMs) {
      try {
        let done = 0;
        while (done < buf.length) {
          const n = fileIo.writeSync(fd, buf, done, buf.length - done, pos + done);
          assert(n > 0, 'disk write made no progress');
          done += n;
        }
      } catch (err) {
        return Promise.reject(err);
      } finally {
        this.lastWriteMs = fileIo.now() - t0;
      }
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      let done = 0;
      const next = (): void => {
        fileIo.write(fd, buf, done, buf.length - done, pos + done, (err, n) => {
          if (err) return reject(err);
          if (n <= 0) return reject(new Error('disk write made no progress'));
          done += n;
          if (done < buf.length) return next();
          this.lastWriteMs = fileIo.now() - t0;
          resolve();
        });
      };
      next();
    });
  }

  truncate(len: number): Promise<void> {
    return this.fh.truncate(len);
  }

  sync(): Promise<void> {
    return this.fh.sync();
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** The real file system (node:fs). */
export const nodeDisk: Disk = {
  mkdirp: async (dir) => void mkdirSync(dir, { recursive: true }),
  list: async (dir) => readdirSync(dir),
  readFile: (file) => readFile(file),
  open: async (file, mode) => {
    let flags = fsConstants.O_RDWR;
    if (mode.create) flags |= fsConstants.O_CREAT | fsConstants.O_TRUNC;
    if (mode.dsync) flags |= fsConstants.O_DSYNC;
    return new NodeFile(await open(file, flags, mode.mode ?? 0o666), mode.dsync === true);
  },
  truncate: (file, len) => truncate(file, len),
  rename: (from, to) => rename(from, to),
  remove: (file) => rm(file, { force: true }),
  syncDir: async (dir) => {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
};

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
import { closeSync, constants as fsConstants, fsyncSync, mkdirSync, openSync, readdirSync } from 'node:fs';
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

class NodeFile implements DiskFile {
  constructor(private readonly fh: FileHandle) {}

  async write(buf: Uint8Array, pos: number): Promise<void> {
    // write() may write less than asked (a full disk writes what fits and returns the count;
    // the next call reports ENOSPC): taking a short count as done would acknowledge a torn
    // record, lost on restart.
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, pos + done);
      assert(bytesWritten > 0, 'disk write made no progress');
      done += bytesWritten;
    }
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
    return new NodeFile(await open(file, flags, mode.mode ?? 0o666));
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

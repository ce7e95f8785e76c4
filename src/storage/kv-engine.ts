/**
 * The ordered key-value engine under the Backend (backend.ts): what the Backend needs of
 * LevelDB and nothing more, so that a member can run on classic-level (level-engine.ts, the
 * default) or on an in-memory engine whose I/O completions and crashes the simulator controls
 * (memory-engine.ts; issue 14: whole members under deterministic simulation).
 *
 * Contract of every implementation (LevelDB's, which the Backend and the stores rely on):
 * - keys are ordered bytewise; ranges are [gte, lt);
 * - getSync reads what the writes that have resolved so far left (a write in flight may or may
 *   not be visible yet: callers must not depend on it before its promise resolves);
 * - a write is atomic: after a crash it is wholly there or wholly absent; writes land in the
 *   order they were issued, and after a crash the writes that survive are a prefix of them;
 *   a `sync` write survives a crash once resolved, and so does every write issued before it;
 * - an iterator reads one consistent state: the one at its creation (or its snapshot's);
 * - a closed engine answers no more writes (isOpen false).
 */

export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** A consistent view of the engine, shared by the iterators created on it. */
export interface EngineSnapshot {
  close(): Promise<void>;
}

export interface EngineRange {
  gte: Buffer;
  lt: Buffer;
  /** Read this snapshot instead of the state at the iterator's creation. */
  snapshot?: EngineSnapshot;
}

export interface EngineIterator {
  /** Up to n further entries in key order; empty at the end. */
  nextv(n: number): Promise<[Buffer, Buffer][]>;
  close(): Promise<void>;
}

export interface KvEngine {
  readonly isOpen: boolean;
  /** Synchronous point read (the hot path of apply and range). */
  getSync(key: Buffer): Buffer | undefined;
  /** Writes the ops atomically, after every earlier write; fsyncs when `sync`. */
  write(ops: BatchOp[], sync: boolean): Promise<void>;
  iterator(range: EngineRange): EngineIterator;
  /** Up to `limit` keys in [gte, lt), in key order. */
  keys(gte: Buffer, lt: Buffer, limit: number): Promise<Buffer[]>;
  snapshot(): EngineSnapshot;
  /** Estimated bytes the keys in [gte, lt) take in the engine's tables. */
  approximateSize(gte: Buffer, lt: Buffer): Promise<number>;
  /** Rewrites [gte, lt) without deleted and overwritten records (defragment). */
  compactRange(gte: Buffer, lt: Buffer): Promise<void>;
  /** Bytes of the engine's files (Status dbSize). */
  sizeOnDisk(): number;
  /** Bytes of writes logged but not yet in tables (LevelDB's .log files). */
  logBytes(): number;
  close(): Promise<void>;
}

/** Opens (creating if needed) the engine whose files live in `dir`. */
export type KvEngineOpener = (dir: string) => Promise<KvEngine>;

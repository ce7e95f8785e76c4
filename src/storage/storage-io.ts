/**
 * Where a member keeps its data: the KV engine under the backend and the disk of its WAL and
 * snapshot files. Production uses classic-level and node:fs (realStorage); the whole-member
 * simulator (test/sim/members) passes in-memory ones that it can crash mid-write.
 */
import { nodeDisk, type Disk } from './disk.js';
import type { KvEngineOpener } from './kv-engine.js';
import { openLevelEngine } from './level-engine.js';

export interface StorageIo {
  engine: KvEngineOpener;
  disk: Disk;
  /** WAL segment size (default wal.ts walSegmentBytesMax); the simulator uses small ones. */
  walSegmentBytes?: number;
}

export const realStorage: StorageIo = { engine: openLevelEngine, disk: nodeDisk };

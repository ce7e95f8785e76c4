/**
 * Raft snapshots of a member (etcd's snapshot path: EtcdServer.snapshot / sendMergedSnap /
 * snap.Snapshotter). Creating: every --snapshot-count applied entries, a snapshot at the applied
 * index, keeping --experimental-snapshot-catchup-entries of log behind it for slow followers.
 * Sending: the core's MsgSnap carries metadata only; the state itself streams from the store
 * (state-snapshot.ts dumpState). Receiving: the leader's stream is stored under member/snap
 * until the core hands the snapshot out in a Ready, whose persist turns it into the backend
 * operations installed with the snapshot; after the install, the files of that snapshot and
 * older ones are removed.
 *
 * Invariants: a snapshot is handed out only after its file was stored (asserted); a file newer
 * than the snapshot installed stays (its MsgSnap may still be stepped); apply batches still
 * landing land before the scan that lists what the install deletes and before a snapshot is
 * created; the snapshot index only moves forward.
 */
import path from 'node:path';
import { assert } from '../base/assert.js';
import { hex } from '../base/int64.js';
import type { Logger } from '../base/logger.js';
import type { RawNode } from '../raft/raw-node.js';
import type { Message, Snapshot } from '../raft/types.js';
import type { Transport } from '../peer/transport.js';
import type { Backend } from '../storage/backend.js';
import type { Disk } from '../storage/disk.js';
import type { DurableRaftStorage } from './raft-storage.js';
import { dumpState, installOps, parseStateFile, storeStateFile } from './state-snapshot.js';

export interface RaftSnapshotsOptions {
  dataDir: string;
  /** --snapshot-count and --experimental-snapshot-catchup-entries. */
  snapshotCount: number;
  snapshotCatchupEntries: number;
  logger: Logger;
}

export class RaftSnapshots {
  private readonly files = new Map<bigint, string>();
  /** Index of the last snapshot made or installed. */
  index: bigint;

  constructor(
    private readonly o: RaftSnapshotsOptions,
    private readonly disk: Disk,
    private readonly backend: Backend,
    private readonly storage: DurableRaftStorage,
  ) {
    this.index = storage.snapshot().metadata.index;
  }

  /** After the loop's advance: a snapshot once --snapshot-count entries applied since the last. */
  async maybeCreate(core: RawNode, applyDeferred: () => Promise<void>): Promise<void> {
    if (core.raft.log.applied - this.index < BigInt(this.o.snapshotCount)) return;
    // The core's applied index counts entries the loop defers to the next Ready (raft-node.ts):
    // the store must hold them before it is described by a snapshot at that index.
    await applyDeferred();
    const applied = core.raft.log.applied;
    await this.backend.drain();
    const compactTo = applied - BigInt(this.o.snapshotCatchupEntries);
    await this.storage.createSnapshot(applied, core.raft.confState(), compactTo);
    this.o.logger.info('saved snapshot', {
      'snapshot-index': applied.toString(),
      'compacted-to': (compactTo > 0n ? compactTo : 0n).toString(),
    });
    this.index = applied;
  }

  /** A MsgSnap to send: its state streams from the store beside it. */
  send(transport: Transport, m: Message): void {
    this.o.logger.info('sending database snapshot', {
      'remote-peer-id': hex(m.to),
      'snapshot-index': m.snapshot?.metadata.index.toString(),
    });
    transport.sendSnapshot(m, () => dumpState(this.backend));
  }

  /** The peer transport received a snapshot's state: store it until the core hands it out. */
  async receive(m: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const index = m.snapshot?.metadata.index ?? 0n;
    const file = path.join(this.o.dataDir, 'member', 'snap', `${hex(m.term)}-${hex(index)}.state`);
    await storeStateFile(file, data, this.disk);
    this.files.set(index, file);
    this.o.logger.info('received database snapshot', { 'remote-peer-id': hex(m.from), 'snapshot-index': index.toString() });
  }

  /** The backend operations that install `snap`'s state (persisted with the snapshot). */
  async installOps(snap: Snapshot): ReturnType<typeof installOps> {
    const file = this.files.get(snap.metadata.index);
    assert(file !== undefined, `snapshot ${snap.metadata.index} handed out without its data`);
    const records = await parseStateFile(await this.disk.readFile(file));
    // Apply batches still landing must land before the scan that lists what to delete.
    await this.backend.drain();
    return installOps(this.backend, records);
  }

  /**
   * Files of this snapshot and older ones are done with. A newer one may have arrived while
   * this one was installed (the leader compacted past it meanwhile): its MsgSnap is still to
   * be stepped, and its file must still be there when the core hands it out.
   */
  async installed(index: bigint): Promise<void> {
    this.index = index;
    for (const [i, f] of [...this.files]) {
      if (i > index) continue;
      this.files.delete(i);
      await this.disk.remove(f);
    }
  }
}

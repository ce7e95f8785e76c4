/**
 * Incoming Raft snapshots' state (etcd's snap.Snapshotter on the receiving side): the leader
 * streams its store (state-snapshot.ts) beside a MsgSnap that carries metadata only; the file is
 * stored here under member/snap until the core hands the snapshot out in a Ready, whose persist
 * turns it into the backend operations installed with the snapshot; after the install, the
 * files of that snapshot and older ones are removed.
 *
 * Invariants: a snapshot is handed out only after its file was stored (asserted); a file newer
 * than the snapshot installed stays (its MsgSnap may still be stepped); apply batches still
 * landing land before the scan that lists what the install deletes.
 */
import path from 'node:path';
import { assert } from '../base/assert.js';
import { hex } from '../base/int64.js';
import type { Logger } from '../base/logger.js';
import type { Message, Snapshot } from '../raft/types.js';
import type { Backend } from '../storage/backend.js';
import type { Disk } from '../storage/disk.js';
import { installOps, parseStateFile, storeStateFile } from './state-snapshot.js';

export class SnapshotInbox {
  private readonly files = new Map<bigint, string>();

  constructor(
    private readonly dataDir: string,
    private readonly disk: Disk,
    private readonly backend: Backend,
    private readonly logger: Logger,
  ) {}

  /** The peer transport received a snapshot's state: store it until the core hands it out. */
  async receive(m: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const index = m.snapshot?.metadata.index ?? 0n;
    const file = path.join(this.dataDir, 'member', 'snap', `${hex(m.term)}-${hex(index)}.state`);
    await storeStateFile(file, data, this.disk);
    this.files.set(index, file);
    this.logger.info('received database snapshot', { 'remote-peer-id': hex(m.from), 'snapshot-index': index.toString() });
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
    for (const [i, f] of [...this.files]) {
      if (i > index) continue;
      this.files.delete(i);
      await this.disk.remove(f);
    }
  }
}

/**
 * The revisions of one key (etcd mvcc key_index.go): a list of generations. A generation is a
 * life of the key from a put that created it to the tombstone that deleted it; the last
 * generation is the current one and is empty while the key is deleted.
 *
 * Example: put@2, put@3, delete@4, put@6 →
 *   generations [{created 2, ver 3, revs [2, 3, 4(tombstone)]}, {created 6, ver 1, revs [6]}]
 *
 * Compaction at rev drops what no read at a revision ≥ rev can see: every generation whose
 * tombstone is ≤ rev, and inside the first remaining generation every revision before the
 * last one ≤ rev; that last one is kept (reported to `keep`) because it is the value visible
 * at rev. `ver` counts every change of the generation including compacted ones, so versions
 * stay right after compaction.
 *
 * Invariants: revisions strictly increase across the whole index; every generation but the
 * last is non-empty and ends with its tombstone; the last generation has no tombstone; an
 * index with only one, empty, generation is empty (the key can be dropped).
 */
import { assert } from '../base/assert.js';
import { compareRev, type Revision } from './revision.js';

export interface Generation {
  /** Changes in this generation, compacted ones included (etcd generation.ver). */
  ver: bigint;
  /** The revision of the put that created this generation. */
  created: Revision;
  revs: Revision[];
}

/** What a read at some revision sees of a key. */
export interface Visible {
  modified: Revision;
  created: Revision;
  version: bigint;
}

const noRev: Revision = { main: 0n, sub: 0n };

export class KeyIndex {
  /** The last change (put or tombstone). */
  modified: Revision = noRev;
  generations: Generation[] = [{ ver: 0n, created: noRev, revs: [] }];

  /** The key as a latin1 string: one char per byte, so string order is byte order. */
  readonly id: string;

  constructor(readonly key: Buffer) {
    this.id = key.toString('latin1');
  }

  private last(): Generation {
    return this.generations[this.generations.length - 1] as Generation;
  }

  /** True while the key exists at the newest revision. */
  isLive(): boolean {
    return this.last().revs.length > 0;
  }

  isEmpty(): boolean {
    return this.generations.length === 1 && this.last().revs.length === 0;
  }

  put(r: Revision): void {
    assert(compareRev(r, this.modified) > 0, `revision ${r.main}/${r.sub} not after ${this.modified.main}/${this.modified.sub}`);
    const g = this.last();
    if (g.revs.length === 0) {
      g.created = r;
      g.ver = 0n;
    }
    g.revs.push(r);
    g.ver++;
    this.modified = r;
  }

  /**
   * At start-up, the first record seen of a key whose earlier history may be compacted away:
   * the generation starts with the stored create revision and version (etcd keyIndex.restore).
   */
  restore(created: Revision, modified: Revision, ver: bigint): void {
    assert(!this.isLive(), 'restore into a live key');
    assert(compareRev(modified, this.modified) > 0, 'restore out of order');
    const g = this.last();
    g.created = created;
    g.ver = ver;
    g.revs.push(modified);
    this.modified = modified;
  }

  tombstone(r: Revision): void {
    assert(this.isLive(), 'tombstone of a deleted key');
    this.put(r);
    this.generations.push({ ver: 0n, created: noRev, revs: [] });
  }

  /** The put visible at revision atRev, or null if the key does not exist there. */
  get(atRev: bigint): Visible | null {
    const lastGen = this.generations.length - 1;
    const live = this.generations[lastGen] as Generation;
    const n0 = live.revs.length;
    if (n0 > 0 && this.modified.main <= atRev) {
      // the common case: the newest revision of a live key
      return { modified: this.modified, created: live.created, version: live.ver };
    }
    for (let gi = lastGen; gi >= 0; gi--) {
      const g = this.generations[gi] as Generation;
      const n = g.revs.length;
      if (n === 0) continue;
      if (gi !== lastGen && (g.revs[n - 1] as Revision).main <= atRev) return null; // deleted by then
      if ((g.revs[0] as Revision).main > atRev) continue;
      let i = n - 1;
      while ((g.revs[i] as Revision).main > atRev) i--;
      return { modified: g.revs[i] as Revision, created: g.created, version: g.ver - BigInt(n - 1 - i) };
    }
    return null;
  }

  /** Whether a put is visible at atRev (get() without building the answer, for counting). */
  existsAt(atRev: bigint): boolean {
    const live = this.generations[this.generations.length - 1] as Generation;
    if (live.revs.length > 0 && this.modified.main <= atRev) return true;
    return this.get(atRev) !== null;
  }

  /** Every revision with main ≥ rev, in order (for watchers catching up). */
  since(rev: bigint): Revision[] {
    const out: Revision[] = [];
    for (const g of this.generations) for (const r of g.revs) if (r.main >= rev) out.push(r);
    return out;
  }

  /** Compacts at atRev (see the header); reports each kept revision ≤ atRev to keep. */
  compact(atRev: bigint, keep: (r: Revision) => void): void {
    let gi = 0;
    while (gi < this.generations.length - 1) {
      const g = this.generations[gi] as Generation;
      if ((g.revs[g.revs.length - 1] as Revision).main > atRev) break;
      gi++;
    }
    const g = this.generations[gi] as Generation;
    let n = -1;
    for (let i = 0; i < g.revs.length && (g.revs[i] as Revision).main <= atRev; i++) n = i;
    if (n >= 0) {
      keep(g.revs[n] as Revision);
      if (n > 0) g.revs = g.revs.slice(n);
    }
    if (gi > 0) this.generations = this.generations.slice(gi);
  }
}

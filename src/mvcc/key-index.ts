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
 * Layout (issue 11: a million keys must fit in etcd's memory budget): one object per key with
 * plain number fields and no per-revision objects. The current generation lives in fields: its
 * created revision, version count, revision count and last revision; its earlier revisions, if
 * any, in `cur` as flat (main, sub) pairs; ended generations, if any, in `old` as flat records
 * [ver, createdMain, createdSub, n, main, sub, ...n pairs]. A key put once costs one object
 * and its key string. Revisions are numbers (exact below 2^53; etcd's are int64).
 *
 * Invariants: revisions strictly increase across the whole index; every ended generation is
 * non-empty and ends with its tombstone; the current generation has no tombstone; an index with
 * no ended generation and an empty current one is empty (the key can be dropped).
 */
import { assert } from '../base/assert.js';

/** What a read at some revision sees of a key. */
export interface Visible {
  modMain: number;
  modSub: number;
  createdMain: number;
  createdSub: number;
  version: number;
}

/** Test and debugging view of the generations. */
export interface GenerationView {
  ver: number;
  created: { main: number; sub: number };
  revs: { main: number; sub: number }[];
}

function after(am: number, as: number, bm: number, bs: number): boolean {
  return am > bm || (am === bm && as > bs);
}

export class KeyIndex {
  /** The key as a latin1 string: one char per byte, so string order is byte order. */
  readonly id: string;
  /** The last change of the whole key (put or tombstone). */
  private mm = 0;
  private ms = 0;
  // Current generation.
  private cm = 0;
  private cs = 0;
  private ver = 0;
  /** Revisions in the current generation. */
  private n = 0;
  /** Its last revision (valid when n > 0). */
  private lm = 0;
  private ls = 0;
  /** Its revisions before the last, flat (main, sub) pairs; null when n ≤ 1. */
  private cur: number[] | null = null;
  /** Ended generations, oldest first, flat [ver, cm, cs, n, m, s, ...]; null when none. */
  private old: number[] | null = null;

  constructor(key: Buffer | string) {
    this.id = typeof key === 'string' ? key : key.toString('latin1');
  }

  /** The key's bytes (a new Buffer). */
  get key(): Buffer {
    return Buffer.from(this.id, 'latin1');
  }

  /** True while the key exists at the newest revision. */
  isLive(): boolean {
    return this.n > 0;
  }

  isEmpty(): boolean {
    return this.old === null && this.n === 0;
  }

  /** The last change (main revision) of the key; 0 if none. */
  modifiedMain(): number {
    return this.mm;
  }

  put(main: number, sub: number): void {
    assert(after(main, sub, this.mm, this.ms), `revision ${main}/${sub} not after ${this.mm}/${this.ms}`);
    if (this.n === 0) {
      this.cm = main;
      this.cs = sub;
      this.ver = 0;
    } else {
      (this.cur ??= []).push(this.lm, this.ls);
    }
    this.n++;
    this.lm = main;
    this.ls = sub;
    this.ver++;
    this.mm = main;
    this.ms = sub;
  }

  /**
   * At start-up, the first record seen of a key whose earlier history may be compacted away:
   * the generation starts with the stored create revision and version (etcd keyIndex.restore).
   */
  restore(createdMain: number, createdSub: number, modMain: number, modSub: number, ver: number): void {
    assert(!this.isLive(), 'restore into a live key');
    assert(after(modMain, modSub, this.mm, this.ms), 'restore out of order');
    this.cm = createdMain;
    this.cs = createdSub;
    this.ver = ver;
    this.n = 1;
    this.lm = modMain;
    this.ls = modSub;
    this.cur = null;
    this.mm = modMain;
    this.ms = modSub;
  }

  tombstone(main: number, sub: number): void {
    assert(this.isLive(), 'tombstone of a deleted key');
    this.put(main, sub);
    // The current generation ends: move it to `old`.
    const o = (this.old ??= []);
    o.push(this.ver, this.cm, this.cs, this.n);
    if (this.cur !== null) for (const x of this.cur) o.push(x);
    o.push(this.lm, this.ls);
    this.n = 0;
    this.ver = 0;
    this.cm = 0;
    this.cs = 0;
    this.cur = null;
  }

  /** The put visible at revision `at`, or null if the key does not exist there. */
  get(at: number): Visible | null {
    if (this.n > 0) {
      if (this.lm <= at) {
        // the common case: the newest revision of a live key
        return { modMain: this.lm, modSub: this.ls, createdMain: this.cm, createdSub: this.cs, version: this.ver };
      }
      const c = this.cur;
      if (c !== null && (c[0] as number) <= at) {
        let i = c.length - 2;
        while ((c[i] as number) > at) i -= 2;
        const j = i / 2; // its place among the generation's n revisions
        return { modMain: c[i] as number, modSub: c[i + 1] as number, createdMain: this.cm, createdSub: this.cs, version: this.ver - (this.n - 1 - j) };
      }
    }
    const o = this.old;
    if (o === null) return null;
    // Ended generations, oldest first; one covers [its first revision, its tombstone).
    for (let p = 0; p < o.length; ) {
      const n = o[p + 3] as number;
      const first = p + 4;
      const end = first + 2 * n;
      if ((o[first] as number) > at) return null;
      if (at < (o[end - 2] as number)) {
        let i = end - 4; // the last put before the tombstone
        while ((o[i] as number) > at) i -= 2;
        const j = (i - first) / 2;
        return { modMain: o[i] as number, modSub: o[i + 1] as number, createdMain: o[p + 1] as number, createdSub: o[p + 2] as number, version: (o[p] as number) - (n - 1 - j) };
      }
      p = end;
    }
    return null;
  }

  /** Whether a put is visible at `at` (get() without building the answer, for counting). */
  existsAt(at: number): boolean {
    if (this.n > 0 && (this.cur === null ? this.lm : (this.cur[0] as number)) <= at) return true;
    return this.get(at) !== null;
  }

  /** Compacts at `at` (see the header); reports each kept revision ≤ at to keep. */
  compact(at: number, keep: (main: number, sub: number) => void): void {
    // Drop ended generations whose tombstone is ≤ at.
    if (this.old !== null) {
      const o = this.old;
      let p = 0;
      while (p < o.length) {
        const n = o[p + 3] as number;
        const end = p + 4 + 2 * n;
        if ((o[end - 2] as number) > at) break;
        p = end;
      }
      if (p > 0) this.old = p === o.length ? null : o.slice(p);
    }
    // The first remaining generation: keep its last revision ≤ at and everything after.
    if (this.old !== null) {
      const o = this.old;
      const n = o[3] as number;
      let k = -1; // index (in pairs) of the last revision ≤ at
      for (let i = 0; i < n && (o[4 + 2 * i] as number) <= at; i++) k = i;
      if (k >= 0) {
        keep(o[4 + 2 * k] as number, o[5 + 2 * k] as number);
        if (k > 0) {
          const rest = o.slice(4 + 2 * k);
          this.old = [o[0] as number, o[1] as number, o[2] as number, n - k, ...rest];
        }
      }
      return;
    }
    if (this.n === 0) return;
    // The current generation: the last revision ≤ at.
    if (this.lm <= at) {
      keep(this.lm, this.ls);
      this.n = 1;
      this.cur = null;
      return;
    }
    const c = this.cur;
    if (c === null) return;
    let k = -1;
    for (let i = 0; i < c.length && (c[i] as number) <= at; i += 2) k = i;
    if (k < 0) return;
    keep(c[k] as number, c[k + 1] as number);
    if (k > 0) {
      this.cur = c.slice(k);
      this.n -= k / 2;
    }
  }

  /** The index's numbers, for a checkpoint (index-checkpoint.ts): fixed fields, then arrays. */
  dump(): { fields: number[]; cur: number[] | null; old: number[] | null } {
    return { fields: [this.mm, this.ms, this.cm, this.cs, this.ver, this.n, this.lm, this.ls], cur: this.cur, old: this.old };
  }

  /** Rebuilds an index from dump() (the checkpoint checks it with a digest first). */
  static undump(id: string, fields: number[], cur: number[] | null, old: number[] | null): KeyIndex {
    const k = new KeyIndex(id);
    assert(fields.length === 8, 'key index dump of the wrong shape');
    [k.mm, k.ms, k.cm, k.cs, k.ver, k.n, k.lm, k.ls] = fields as [number, number, number, number, number, number, number, number];
    k.cur = cur;
    k.old = old;
    return k;
  }

  /** Every revision with main ≥ rev, in order (tests). */
  since(rev: number): { main: number; sub: number }[] {
    const out: { main: number; sub: number }[] = [];
    for (const g of this.generations) for (const r of g.revs) if (r.main >= rev) out.push(r);
    return out;
  }

  /** The generations, oldest first, the current (possibly empty) one last (tests, debugging). */
  get generations(): GenerationView[] {
    const out: GenerationView[] = [];
    const o = this.old;
    if (o !== null) {
      for (let p = 0; p < o.length; ) {
        const n = o[p + 3] as number;
        const revs: { main: number; sub: number }[] = [];
        for (let i = 0; i < n; i++) revs.push({ main: o[p + 4 + 2 * i] as number, sub: o[p + 5 + 2 * i] as number });
        out.push({ ver: o[p] as number, created: { main: o[p + 1] as number, sub: o[p + 2] as number }, revs });
        p += 4 + 2 * n;
      }
    }
    const revs: { main: number; sub: number }[] = [];
    if (this.cur !== null) for (let i = 0; i < this.cur.length; i += 2) revs.push({ main: this.cur[i] as number, sub: this.cur[i + 1] as number });
    if (this.n > 0) revs.push({ main: this.lm, sub: this.ls });
    out.push({ ver: this.ver, created: { main: this.cm, sub: this.cs }, revs });
    return out;
  }
}

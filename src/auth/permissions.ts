/**
 * Key permissions of one user, merged over all its roles, and the two checks etcd's auth store
 * makes with them (auth/range_perm_cache.go over pkg/adt's interval tree):
 *
 * - a permission [key, range_end) is an interval; an empty range_end means the single key
 *   (the point [key, key+"\0")); range_end "\0" means every key from `key` on. Bounds compare as
 *   etcd's BytesAffineComparable: byte order, except that the EMPTY byte string is +infinity.
 * - a request on one key (empty range_end) is permitted when some permission interval of the
 *   type intersects the point (checkKeyPoint, tree.Intersects);
 * - a request on a range [key, range_end) (range_end "\0" = to +infinity) is permitted when the
 *   permission intervals of the type cover it without a gap (checkKeyInterval, tree.Contains:
 *   intervals that overlap the range, taken by ascending start, must be contiguous, start at or
 *   before `key` and reach `range_end`).
 *
 * Both checks run on the union of the intervals, kept as a sorted list of disjoint, non-touching
 * intervals, so a check is one binary search and no allocation.
 *
 * Invariant (asserted by merge): begin < end for every interval, and each interval's end is
 * strictly below the next one's begin (touching intervals are merged).
 */
import { assert } from '../base/assert.js';

export const PermType = { READ: 0, WRITE: 1, READWRITE: 2 } as const;
export type PermTypeValue = (typeof PermType)[keyof typeof PermType];

export interface Permission {
  permType: number;
  key: Buffer;
  rangeEnd: Buffer;
}

/** etcd's BytesAffineComparable.Compare: the empty byte string is +infinity. */
export function affineCompare(a: Uint8Array, b: Uint8Array): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return Buffer.compare(a, b);
}

interface Interval {
  begin: Buffer;
  end: Buffer;
}

const zeroByte = Buffer.from([0]);

/** The interval of a permission (getMergedPerms): a point, a range, or to +infinity. */
function permInterval(p: Permission): Interval {
  if (p.rangeEnd.length === 0) return { begin: p.key, end: Buffer.concat([p.key, zeroByte]) };
  const toInfinity = p.rangeEnd.length === 1 && p.rangeEnd[0] === 0;
  return { begin: p.key, end: toInfinity ? Buffer.alloc(0) : p.rangeEnd };
}

/** Sorted, disjoint, non-touching intervals: their union. Empty or inverted ones cover nothing. */
function merge(intervals: Interval[]): Interval[] {
  const live = intervals.filter((i) => affineCompare(i.begin, i.end) < 0);
  live.sort((a, b) => affineCompare(a.begin, b.begin));
  const out: Interval[] = [];
  for (const i of live) {
    const last = out[out.length - 1];
    if (last !== undefined && affineCompare(i.begin, last.end) <= 0) {
      if (affineCompare(i.end, last.end) > 0) last.end = i.end;
    } else out.push({ begin: i.begin, end: i.end });
  }
  for (let k = 1; k < out.length; k++) assert(affineCompare((out[k - 1] as Interval).end, (out[k] as Interval).begin) < 0, 'merged permissions overlap');
  return out;
}

/** One permission type's intervals of a user. */
export class IntervalSet {
  private readonly ivs: Interval[];

  constructor(intervals: Interval[]) {
    this.ivs = merge(intervals);
  }

  get size(): number {
    return this.ivs.length;
  }

  /** Index of the first interval whose end is above `key` (affine), or ivs.length. */
  private firstEndingAfter(key: Uint8Array): number {
    let lo = 0;
    let hi = this.ivs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (affineCompare((this.ivs[mid] as Interval).end, key) > 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Some interval holds `key` (checkKeyPoint: the point [key, key+"\0") intersects). */
  intersectsPoint(key: Uint8Array): boolean {
    const i = this.ivs[this.firstEndingAfter(key)];
    return i !== undefined && affineCompare(i.begin, key) <= 0;
  }

  /**
   * The intervals cover [begin, end) (checkKeyInterval; `end` empty = +infinity). On the merged
   * list this is: the first interval ending after `begin` starts at or before it and reaches `end`.
   */
  containsRange(begin: Uint8Array, end: Uint8Array): boolean {
    const i = this.ivs[this.firstEndingAfter(begin)];
    if (i === undefined) return false;
    // tree.Contains visits only intervals overlapping the range: one that starts at or past
    // `end` is not visited, so nothing covers the range.
    if (affineCompare(i.begin, end) >= 0) return false;
    return affineCompare(i.begin, begin) <= 0 && affineCompare(i.end, end) >= 0;
  }
}

/** A user's merged permissions (getMergedPerms). */
export interface UserPerms {
  read: IntervalSet;
  write: IntervalSet;
}

export function mergePerms(perms: Iterable<Permission>): UserPerms {
  const read: Interval[] = [];
  const write: Interval[] = [];
  for (const p of perms) {
    const iv = permInterval(p);
    if (p.permType === PermType.READ || p.permType === PermType.READWRITE) read.push(iv);
    if (p.permType === PermType.WRITE || p.permType === PermType.READWRITE) write.push(iv);
  }
  return { read: new IntervalSet(read), write: new IntervalSet(write) };
}

/**
 * etcd's isRangeOpPermitted: an empty range_end checks the key alone; otherwise the range, with
 * range_end "\0" meaning every key from `key` on.
 */
export function rangePermitted(perms: UserPerms, key: Uint8Array, rangeEnd: Uint8Array, type: typeof PermType.READ | typeof PermType.WRITE): boolean {
  const set = type === PermType.READ ? perms.read : perms.write;
  if (rangeEnd.length === 0) return set.intersectsPoint(key);
  const end = rangeEnd.length === 1 && rangeEnd[0] === 0 ? emptyEnd : rangeEnd;
  return set.containsRange(key, end);
}

const emptyEnd = new Uint8Array(0);

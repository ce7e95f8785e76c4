/**
 * A linearizability checker: the search of Wing & Gong as improved by Lowe (memoization of the
 * set of operations already linearized together with the model state reached) and used by
 * porcupine, over any sequential model, for one partition of a history (kv-history.ts
 * partitions by key: P-compositionality, Horn & Kroening).
 *
 * The history is a list of operations with real-time call and return instants. An operation
 * whose outcome was not seen (it timed out, or failed in a way that does not prove it had no
 * effect) has no output and no return: it may take effect at any instant after its call, or
 * never. The search therefore never has to place it; it succeeds once every operation with a
 * known outcome is placed.
 *
 * How the search goes (Lowe 2017, "Testing for linearizability", §3): calls and returns form
 * one list in time order. Walking it from the start, a call may be linearized now if the model
 * accepts the operation in the current state: the call and its return leave the list, the
 * step goes on a stack, and the walk restarts from the head. Reaching a return means the
 * operation it closes had to be linearized already: undo the last step and try the next
 * candidate. A (linearized set, state) pair seen before is not explored twice; the set is
 * hashed with 96-bit Zobrist keys, so a false "already seen" (which could only turn a
 * linearizable history into a reported violation) has probability below 1e-15 for 1e7 pairs.
 *
 * Models may be non-deterministic (step returns every possible next state): an operation whose
 * outcome is unknown can leave the state several ways, and each is tried.
 *
 * One reduction on top (sound and complete, see the loop): an operation of known outcome that
 * the model calls read-only (a read, a compare that failed) is placed as soon as it fits, for
 * good, so the search never explores the subsets of such operations pending together.
 */

export interface Model<S, I, O> {
  init(): S;
  /**
   * Every state the model can be in after `input` takes effect in `state` and answers `output`
   * (undefined: the answer was not seen). Empty when the operation cannot answer that here.
   */
  step(state: S, input: I, output: O | undefined): S[];
  /** Equal states give equal keys (memoization). */
  key(state: S): string;
  describeState(state: S): string;
  describeOp(op: Operation<I, O>): string;
  /** Why `op` cannot take effect in `state` (called only when step returned nothing). */
  whyNot(state: S, op: Operation<I, O>): string;
  /**
   * True when the operation, with this (known) output, changes nothing wherever it takes effect
   * (a read, a compare that failed): the search then places it as soon as it fits, for good.
   */
  readOnly?(input: I, output: O): boolean;
}

export interface Operation<I, O> {
  /** Unique in the whole history (it is how explanations name the operation). */
  id: number;
  client: number;
  input: I;
  /** Undefined: the outcome was not seen; the operation may have taken effect or not. */
  output?: O;
  /** Real-time instants (any unit, the same for all). */
  call: number;
  /** Undefined when `output` is: the operation never returned. */
  ret?: number;
}

export type CheckResult =
  | { verdict: 'ok'; steps: number }
  | { verdict: 'violation'; steps: number; explanation: string }
  | { verdict: 'unknown'; steps: number; explanation: string };

export interface CheckOptions {
  /** Search steps (linearization attempts) before giving up with 'unknown'. */
  stepsMax?: number;
  /** Label printed first in an explanation, e.g. the key. */
  label?: string;
  /**
   * Operations the model can only take in one order (e.g. writes of one key by the revision
   * they answered): ranks 0, 1, 2, … by position in the array, -1 for the rest. An operation
   * with rank r is a candidate only once ranks below r are placed, which spares the search the
   * dead ends of taking them out of order.
   */
  chain?: readonly number[];
}

export const stepsMaxDefault = 20_000_000;

interface Entry {
  op: number; // index into ops
  call: boolean;
  time: number;
  match: Entry | null; // call → its return
  prev: Entry | null;
  next: Entry | null;
}

interface Best<S> {
  /** Operations of known outcome among `order`. */
  placed: number;
  order: number[];
  /** State after each step of `order`. */
  states: S[];
  state: S;
  /** The operation whose return stopped the walk. */
  blocking: number;
}

interface Frame<S> {
  entry: Entry;
  state: S;
  nexts: S[];
  choice: number;
  /** The operation left the state unchanged: never worth undoing alone. */
  noop: boolean;
}

/** Deterministic 32-bit generator for the Zobrist keys (splitmix32). */
function zobrist(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    out[i] = (z ^ (z >>> 16)) | 0;
  }
  return out;
}

function fmtTime(t: number | undefined): string {
  return t === undefined ? '∞' : t.toFixed(1);
}

/**
 * Checks one partition. Operations with a known output must have `ret >= call`; those without
 * one are treated as never returning, whatever `ret` says.
 */
export function checkLinearizable<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], opts: CheckOptions = {}): CheckResult {
  const stepsMax = opts.stepsMax ?? stepsMaxDefault;
  const n = ops.length;
  const definite = ops.map((o) => o.output !== undefined);
  const definiteTotal = definite.filter(Boolean).length;
  let remaining = definiteTotal;
  if (remaining === 0) return { verdict: 'ok', steps: 0 };

  // Calls before returns at equal instants: an operation returning at t and one called at t are
  // taken as concurrent (the permissive reading: no false alarm from clock granularity).
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const o = ops[i] as Operation<I, O>;
    const ret = definite[i] ? (o.ret as number) : Infinity;
    if (definite[i] && !(typeof o.ret === 'number' && o.ret >= o.call)) {
      throw new Error(`operation ${o.id} has an output but no return at or after its call`);
    }
    const r: Entry = { op: i, call: false, time: ret, match: null, prev: null, next: null };
    const c: Entry = { op: i, call: true, time: o.call, match: r, prev: null, next: null };
    entries.push(c, r);
  }
  entries.sort((a, b) => a.time - b.time || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const head: Entry = { op: -1, call: false, time: -Infinity, match: null, prev: null, next: null };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const lift = (e: Entry): void => {
    (e.prev as Entry).next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match as Entry;
    (m.prev as Entry).next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (e: Entry): void => {
    const m = e.match as Entry;
    (m.prev as Entry).next = m;
    if (m.next) m.next.prev = m;
    (e.prev as Entry).next = e;
    if (e.next) e.next.prev = e;
  };

  const z1 = zobrist(n, 0x1234567);
  const z2 = zobrist(n, 0x89abcde);
  const z3 = zobrist(n, 0x5eed5eed);
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  const flip = (i: number): void => {
    h1 ^= z1[i] as number;
    h2 ^= z2[i] as number;
    h3 ^= z3[i] as number;
  };
  const stateIds = new Map<string, number>();
  // States are objects a step returns (often the same one again): their key is computed once.
  const known = new WeakMap<object, number>();
  const stateId = (s: S): number => {
    const boxed = typeof s === 'object' && s !== null;
    if (boxed) {
      const hit = known.get(s as object);
      if (hit !== undefined) return hit;
    }
    const k = model.key(s);
    let id = stateIds.get(k);
    if (id === undefined) {
      id = stateIds.size;
      stateIds.set(k, id);
    }
    if (boxed) known.set(s as object, id);
    return id;
  };
  const seen = new Set<string>();

  const chain = opts.chain;
  let chained = 0;
  let state = model.init();
  const stack: Frame<S>[] = [];
  let entry: Entry | null = head.next;
  let startChoice = 0;
  let pendingNexts: S[] | null = null;
  let steps = 0;
  // The deepest partial linearization reached, for the explanation. Kept incrementally: `same`
  // is how much of the stack is still what the snapshot holds, so a new snapshot copies only
  // what changed since the last (a full copy per new maximum would be quadratic).
  const bestOrder: number[] = [];
  const bestStates: S[] = [];
  let bestPlaced = -1;
  let bestState: S | null = null;
  let bestBlocking = -1;
  let same = 0;

  const gaveUp = (): CheckResult => ({
    verdict: 'unknown',
    steps,
    explanation: `${opts.label ?? 'history'}: search gave up after ${stepsMax} steps (${n} operations, ${stack.length} linearized at that point)`,
  });

  /** Places `e` with the model's next state `ns` (already in `seen`). */
  const place = (e: Entry, nexts: S[], c: number, noop: boolean): void => {
    stack.push({ entry: e, state, nexts, choice: c, noop });
    state = nexts[c] as S;
    lift(e);
    if (definite[e.op]) remaining--;
    if ((chain?.[e.op] ?? -1) >= 0) chained++;
  };

  /**
   * A read-only operation of known outcome that fits now, leaving the state as it is, is placed
   * now for good: if any order of the rest works, one with it here does (it changes no state
   * wherever it goes, and it is a candidate only once everything that must precede it is
   * placed). Such operations go first at every new frontier, so the search never tries the
   * subsets of them pending together. Not so an operation of unknown outcome: a
   * compare-and-swap that fails here might have to succeed later.
   * Returns 'placed', 'none', or 'dead' (placing it was explored before and failed: so does
   * everything from here).
   */
  const placeReadOnly = (): 'placed' | 'none' | 'dead' => {
    if (model.readOnly === undefined) return 'none';
    for (let e = head.next; e !== null && e.call; e = e.next) {
      const i = e.op;
      const o = ops[i] as Operation<I, O>;
      if (!definite[i] || !model.readOnly(o.input, o.output as O)) continue;
      if ((chain?.[i] ?? -1) >= 0 && chain?.[i] !== chained) continue;
      steps++;
      const nexts = model.step(state, o.input, o.output);
      if (nexts.length !== 1 || stateId(nexts[0] as S) !== stateId(state)) continue;
      flip(i);
      const key = `${h1},${h2},${h3},${stateId(state)}`;
      if (seen.has(key)) {
        flip(i);
        return 'dead';
      }
      seen.add(key);
      place(e, nexts, 0, true);
      return 'placed';
    }
    return 'none';
  };

  let fresh = true;
  while (remaining > 0) {
    if (steps > stepsMax) return gaveUp();
    if (entry === null) throw new Error('linearizability search walked off the history (an operation with an output returned at infinity?)');
    let backtrack = false;
    let atReturn = false;
    if (fresh && startChoice === 0 && pendingNexts === null) {
      const r = placeReadOnly();
      if (r === 'placed') {
        entry = head.next;
        continue;
      }
      fresh = false;
      if (r === 'dead') backtrack = true;
    }
    if (!backtrack && entry.call) {
      steps++;
      const cur: Entry = entry;
      const i = cur.op;
      const o = ops[i] as Operation<I, O>;
      const rank = chain?.[i] ?? -1;
      if (rank >= 0 && rank !== chained) {
        // Not its turn in the chain yet.
        entry = cur.next;
        startChoice = 0;
        pendingNexts = null;
        continue;
      }
      const nexts = pendingNexts ?? model.step(state, o.input, o.output);
      pendingNexts = null;
      let moved = false;
      flip(i);
      for (let c = startChoice; c < nexts.length; c++) {
        const key = `${h1},${h2},${h3},${stateId(nexts[c] as S)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        place(cur, nexts, c, false);
        entry = head.next;
        fresh = true;
        moved = true;
        break;
      }
      startChoice = 0;
      if (moved) continue;
      flip(i);
      entry = cur.next;
      continue;
    }
    if (!backtrack) atReturn = true;
    if (atReturn) {
      // Deepest = most operations of known outcome placed, then fewest of unknown outcome.
      const placed = definiteTotal - remaining;
      const extra = stack.length - placed;
      if (placed > bestPlaced || (placed === bestPlaced && extra < bestOrder.length - bestPlaced)) {
        bestOrder.length = same;
        for (let k = same; k < stack.length; k++) bestOrder.push((stack[k] as Frame<S>).entry.op);
        bestStates.length = Math.max(0, same - 1);
        for (let k = bestStates.length; k < stack.length; k++) bestStates.push(k + 1 < stack.length ? (stack[k + 1] as Frame<S>).state : state);
        same = stack.length;
        bestPlaced = placed;
        bestState = state;
        bestBlocking = entry.op;
      }
    }
    // Undo the last placement that was a real choice (read-only placements were not).
    let top = stack.pop();
    while (top !== undefined) {
      if (stack.length < same) same = stack.length;
      state = top.state;
      unlift(top.entry);
      flip(top.entry.op);
      if (definite[top.entry.op]) remaining++;
      if ((chain?.[top.entry.op] ?? -1) >= 0) chained--;
      if (!top.noop) break;
      top = stack.pop();
    }
    if (top === undefined) break;
    entry = top.entry;
    startChoice = top.choice + 1;
    pendingNexts = top.nexts;
    fresh = false;
  }
  if (remaining === 0) return { verdict: 'ok', steps };
  const best: Best<S> | null = bestState === null ? null : { placed: bestPlaced, order: bestOrder, states: bestStates, state: bestState, blocking: bestBlocking };
  return { verdict: 'violation', steps, explanation: explain(model, ops, best, opts.label, chain) };
}

/** The explanation of a violation: the deepest partial linearization and why nothing fits after it. */
function explain<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  best: Best<S> | null,
  label: string | undefined,
  chain: readonly number[] | undefined,
): string {
  const lines: string[] = [];
  const definiteCount = ops.filter((o) => o.output !== undefined).length;
  const ambiguous = ops.length - definiteCount;
  lines.push(`${label ?? 'history'}: not linearizable (${ops.length} operations, ${ambiguous} with unknown outcome)`);
  if (best === null) {
    lines.push('  no operation can be linearized first');
    return lines.join('\n');
  }
  const done = new Set(best.order);
  const blocking = ops[best.blocking] as Operation<I, O>;
  lines.push(`  the longest partial linearization places ${best.order.length} operations; its last steps (state after each):`);
  const tail = best.order.length > 12 ? best.order.length - 12 : 0;
  if (tail > 0) lines.push(`    … ${tail} earlier`);
  for (let k = tail; k < best.order.length; k++) {
    const o = ops[best.order[k] as number] as Operation<I, O>;
    lines.push(`    ${model.describeOp(o)}  ⇒ ${model.describeState(best.states[k] as S)}`);
  }
  lines.push(`  state there: ${model.describeState(best.state)}`);
  lines.push(`  ${model.describeOp(blocking)} had returned by then, so one of these had to come next; none can:`);
  const retOf = (o: Operation<I, O>): number => (o.output === undefined ? Infinity : (o.ret as number));
  const blockRet = retOf(blocking);
  const candidates = ops.filter((o, i) => !done.has(i) && o.call <= blockRet);
  const chained = best.order.filter((i) => (chain?.[i] ?? -1) >= 0).length;
  const indexOf = new Map(ops.map((o, i) => [o, i]));
  for (const o of candidates.slice(0, 16)) {
    const rank = chain?.[indexOf.get(o) as number] ?? -1;
    const nexts = model.step(best.state, o.input, o.output);
    const why =
      rank >= 0 && rank > chained
        ? `comes after ${rank - chained} unplaced operation(s) it must follow (the chain order)`
        : nexts.length === 0
          ? model.whyNot(best.state, o)
          : 'fits, but then no order of the rest does';
    lines.push(`    ${model.describeOp(o)}: ${why}`);
  }
  if (candidates.length > 16) lines.push(`    … ${candidates.length - 16} more`);
  // The neighbourhood in real time: every operation overlapping the blocking one's interval
  // or the last few placed ones.
  const lastPlaced = best.order.slice(-4).map((i) => ops[i] as Operation<I, O>);
  const from = Math.min(blocking.call, ...lastPlaced.map((o) => o.call));
  const to = blockRet;
  const near = ops.filter((o) => o.call <= to && retOf(o) >= from).sort((a, b) => a.call - b.call);
  lines.push(`  operations overlapping [${fmtTime(from)}, ${fmtTime(to === Infinity ? undefined : to)}] in call order (✓ placed):`);
  for (const o of near.slice(0, 40)) lines.push(`    ${done.has(indexOf.get(o) as number) ? '✓' : ' '} ${model.describeOp(o)}`);
  if (near.length > 40) lines.push(`    … ${near.length - 40} more`);
  return lines.join('\n');
}

export { fmtTime };

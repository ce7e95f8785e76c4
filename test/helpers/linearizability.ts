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
  const stateId = (s: S): number => {
    const k = model.key(s);
    let id = stateIds.get(k);
    if (id === undefined) {
      id = stateIds.size;
      stateIds.set(k, id);
    }
    return id;
  };
  const seen = new Set<string>();

  let state = model.init();
  const stack: Frame<S>[] = [];
  let entry: Entry | null = head.next;
  let startChoice = 0;
  let pendingNexts: S[] | null = null;
  let steps = 0;
  // The deepest partial linearization reached, for the explanation.
  let best: Best<S> | null = null;

  while (remaining > 0) {
    if (entry === null) throw new Error('linearizability search walked off the history (an operation with an output returned at infinity?)');
    if (entry.call) {
      if (++steps > stepsMax) {
        return { verdict: 'unknown', steps, explanation: `${opts.label ?? 'history'}: search gave up after ${stepsMax} steps (${n} operations, ${stack.length} linearized at that point)` };
      }
      const cur: Entry = entry;
      const i = cur.op;
      const o = ops[i] as Operation<I, O>;
      const nexts = pendingNexts ?? model.step(state, o.input, o.output);
      pendingNexts = null;
      let moved = false;
      flip(i);
      for (let c = startChoice; c < nexts.length; c++) {
        const ns = nexts[c] as S;
        const key = `${h1},${h2},${h3},${stateId(ns)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        stack.push({ entry: cur, state, nexts, choice: c });
        state = ns;
        lift(cur);
        if (definite[i]) remaining--;
        entry = head.next;
        moved = true;
        break;
      }
      startChoice = 0;
      if (!moved) {
        flip(i);
        entry = cur.next;
      }
    } else {
      // Deepest = most operations of known outcome placed, then fewest of unknown outcome.
      const placed = definiteTotal - remaining;
      const extra = stack.length - placed;
      if (best === null || placed > best.placed || (placed === best.placed && extra < best.order.length - best.placed)) {
        best = { placed, order: stack.map((f) => f.entry.op), states: stack.map((_, k) => (k + 1 < stack.length ? (stack[k + 1] as Frame<S>).state : state)), state, blocking: entry.op };
      }
      const top = stack.pop();
      if (top === undefined) break;
      state = top.state;
      unlift(top.entry);
      flip(top.entry.op);
      if (definite[top.entry.op]) remaining++;
      entry = top.entry;
      startChoice = top.choice + 1;
      pendingNexts = top.nexts;
    }
  }
  if (remaining === 0) return { verdict: 'ok', steps };
  return { verdict: 'violation', steps, explanation: explain(model, ops, best, opts.label) };
}

/** The explanation of a violation: the deepest partial linearization and why nothing fits after it. */
function explain<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  best: Best<S> | null,
  label: string | undefined,
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
  for (const o of candidates.slice(0, 16)) {
    const nexts = model.step(best.state, o.input, o.output);
    const why = nexts.length === 0 ? model.whyNot(best.state, o) : 'fits, but then no order of the rest does';
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
  const indexOf = new Map(ops.map((o, i) => [o, i]));
  for (const o of near.slice(0, 40)) lines.push(`    ${done.has(indexOf.get(o) as number) ? '✓' : ' '} ${model.describeOp(o)}`);
  if (near.length > 40) lines.push(`    … ${near.length - 40} more`);
  return lines.join('\n');
}

export { fmtTime };

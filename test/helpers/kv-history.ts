/**
 * Client histories of an etcd key space and their checks, shared by the fault harness
 * (scripts/fault-harness.ts) and the simulators.
 *
 * Operations, all on one key: get (a linearizable Range), put, delete, and compare-and-swap as
 * etcd clients write it — a Txn whose compare is `mod_revision == r` or `value == v` and whose
 * success branch is one put (the failure branch does nothing).
 *
 * The model of one key is (value, mod_revision, floor): floor is the highest revision known to
 * have changed the key, so a write with a known revision must come after it (mod revisions of
 * one key increase in linearization order). A put whose outcome is unknown leaves the
 * mod_revision unknown until a read of its value tells it; a compare against an unknown
 * mod_revision may go either way. As etcd does, a missing key compares as mod_revision 0 and
 * never equal in a value compare.
 *
 * checkKvHistory adds two whole-history checks the per-key search cannot see: header revisions
 * never go back in real time (an operation called after another returned answers a revision at
 * least as high), and no two writes report the same revision.
 */
import { checkLinearizable, fmtTime, type CheckResult, type Model, type Operation } from './linearizability.js';

export type KvInput =
  | { f: 'get' }
  | { f: 'put'; value: string }
  | { f: 'delete' }
  | { f: 'cas'; ifModRevision?: bigint; ifValue?: string; value: string };

export type KvOutput =
  | { f: 'get'; value: string | null; modRevision?: bigint; header?: bigint }
  | { f: 'put'; header?: bigint }
  | { f: 'delete'; deleted: boolean; header?: bigint }
  | { f: 'cas'; succeeded: boolean; header?: bigint };

export interface KvOp extends Operation<KvInput, KvOutput> {
  key: string;
  /** Who served it (a member name), for explanations. */
  member?: string;
  /** The error that left the outcome unknown. */
  error?: string;
  /** Set by the checker: the outcome was unknown, a later read showed it (checkKey). */
  inferred?: true;
}

export interface KvState {
  value: string | null;
  /** Mod revision of the value; 0 when the key is missing; null when not known. */
  modRevision: bigint | null;
  /** Highest revision known to have changed this key. */
  floor: bigint;
}

const init: KvState = { value: null, modRevision: 0n, floor: 0n };

function quote(v: string | null): string {
  return v === null ? '∅' : JSON.stringify(v);
}

/** The revision a write answered, when it changed the key. */
function writeRevision(o: KvOutput | undefined): bigint | undefined {
  if (o === undefined) return undefined;
  if (o.f === 'put') return o.header;
  if (o.f === 'cas' && o.succeeded) return o.header;
  if (o.f === 'delete' && o.deleted) return o.header;
  return undefined;
}

function written(s: KvState, value: string | null, rev: bigint | undefined): KvState | null {
  if (rev === undefined) return { value, modRevision: value === null ? 0n : null, floor: s.floor };
  if (rev <= s.floor) return null;
  return { value, modRevision: value === null ? 0n : rev, floor: rev };
}

/** Whether the compare of a CAS holds in `s`: true, false, or null (cannot tell). */
function compareHolds(s: KvState, input: Extract<KvInput, { f: 'cas' }>): boolean | null {
  if (input.ifValue !== undefined) return s.value === input.ifValue;
  const want = input.ifModRevision ?? 0n;
  if (s.value === null) return want === 0n;
  // A value written by a put of unknown outcome: its revision is after the key's last known change.
  if (s.modRevision === null) return want <= s.floor ? false : null;
  return s.modRevision === want;
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => init,
  key: (s) => `${s.value === null ? '' : `=${s.value}`}|${s.modRevision ?? '?'}|${s.floor}`,
  step(s, input, output) {
    switch (input.f) {
      case 'get': {
        if (output === undefined) return [s];
        if (output.f !== 'get' || output.value !== s.value) return [];
        if (output.value === null || output.modRevision === undefined) return [s];
        const r = output.modRevision;
        if (s.modRevision !== null) return s.modRevision === r ? [s] : [];
        // A read tells the revision of a write whose answer was not seen.
        return r > s.floor ? [{ value: s.value, modRevision: r, floor: r }] : [];
      }
      case 'put': {
        const n = written(s, input.value, writeRevision(output));
        return n ? [n] : [];
      }
      case 'delete': {
        if (output === undefined) return s.value === null ? [s] : [{ value: null, modRevision: 0n, floor: s.floor }];
        if (output.f !== 'delete' || output.deleted !== (s.value !== null)) return [];
        if (!output.deleted) return [s];
        const n = written(s, null, output.header);
        return n ? [n] : [];
      }
      case 'cas': {
        const holds = compareHolds(s, input);
        const out: KvState[] = [];
        if (output !== undefined && output.f !== 'cas') return [];
        const mayFail = holds !== true && (output === undefined || !output.succeeded);
        const maySucceed = holds !== false && (output === undefined || output.succeeded);
        if (maySucceed) {
          const n = written(s, input.value, writeRevision(output));
          if (n) out.push(n);
        }
        if (mayFail) out.push(s);
        return out;
      }
    }
  },
  readOnly: (input, output) =>
    input.f === 'get' || (output.f === 'cas' && !output.succeeded) || (output.f === 'delete' && !output.deleted),
  describeState: (s) => `${quote(s.value)} mod_revision ${s.modRevision ?? '?'}${s.floor > 0n ? ` (last change at ${s.floor})` : ''}`,
  describeOp: (op) => describeKvOp(op as KvOp),
  whyNot(s, op) {
    const { input, output } = op;
    if (output === undefined) return 'no state allows it';
    const rev = writeRevision(output);
    switch (input.f) {
      case 'get':
        if (output.f === 'get' && output.value !== s.value) return `reads ${quote(output.value)} but the value is ${quote(s.value)}`;
        if (output.f === 'get') return `reads mod_revision ${output.modRevision} but the value's is ${s.modRevision ?? '?'} (last change at ${s.floor})`;
        break;
      case 'delete':
        if (output.f === 'delete' && output.deleted !== (s.value !== null)) return output.deleted ? 'deleted a key that is missing' : 'deleted nothing but the key exists';
        break;
      case 'cas': {
        if (output.f !== 'cas') break;
        const holds = compareHolds(s, input);
        if (holds === false && output.succeeded) return 'succeeded but its compare is false here';
        if (holds === true && !output.succeeded) return 'failed but its compare is true here';
        break;
      }
      case 'put':
        break;
    }
    if (rev !== undefined && rev <= s.floor) return `answers revision ${rev}, not after the key's last change at ${s.floor}`;
    return 'the model rejects it';
  },
};

export function describeInput(i: KvInput): string {
  switch (i.f) {
    case 'get':
      return 'get';
    case 'put':
      return `put ${quote(i.value)}`;
    case 'delete':
      return 'delete';
    case 'cas':
      return `cas if ${i.ifValue !== undefined ? `value = ${quote(i.ifValue)}` : `mod_revision = ${i.ifModRevision ?? 0n}`} then put ${quote(i.value)}`;
  }
}

export function describeOutput(o: KvOutput | undefined): string {
  if (o === undefined) return '?';
  const h = o.header !== undefined ? ` @${o.header}` : '';
  switch (o.f) {
    case 'get':
      return `${quote(o.value)}${o.modRevision !== undefined && o.value !== null ? ` (mod ${o.modRevision})` : ''}${h}`;
    case 'put':
      return `ok${h}`;
    case 'delete':
      return `${o.deleted ? 'deleted' : 'nothing'}${h}`;
    case 'cas':
      return `${o.succeeded ? 'succeeded' : 'failed'}${h}`;
  }
}

export function describeKvOp(op: KvOp): string {
  const where = op.member !== undefined ? ` via ${op.member}` : '';
  const err = op.inferred ? ` (outcome inferred from a read${op.error !== undefined ? `; ${op.error}` : ''})` : op.output === undefined && op.error !== undefined ? ` (${op.error})` : '';
  return `#${op.id} c${op.client}${where} ${op.key} ${describeInput(op.input)} → ${describeOutput(op.output)}${err} [${fmtTime(op.call)}–${fmtTime(op.output === undefined ? undefined : op.ret)}${op.inferred ? ' at the latest' : ''}]`;
}

export interface KvCheckOptions {
  stepsMax?: number;
  /** Stop after this many violations are described (default 5). */
  violationsMax?: number;
}

export interface KvCheckReport {
  ok: boolean;
  /** Some key's search gave up: neither proved nor refuted. */
  inconclusive: boolean;
  violations: string[];
  keys: number;
  ops: number;
  ambiguous: number;
  steps: number;
  ms: number;
}

/** The values a write with an unknown outcome could be seen by. */
function writtenValue(i: KvInput): string | null {
  return i.f === 'put' || i.f === 'cas' ? i.value : null;
}

/**
 * One key's history, in one search or two. Where a value was written by one operation only (the
 * harness writes each value once):
 * - a write of unknown outcome whose value some operation observed did take effect, before the
 *   first observer returned, and with the mod_revision a read of it reported: it becomes an
 *   operation of known outcome returning then. The constraint is implied by the observation, so
 *   no linearization is lost, and the search stops carrying the write to infinity.
 * Writes of unknown outcome that nobody observed, and deletes of unknown outcome, may each be
 * taken as never applied: the first search leaves them out, and only if it fails does a second
 * put them back (they may explain a compare or a delete that failed).
 */
export function checkKey(key: string, ops: KvOp[], opts: KvCheckOptions = {}): CheckResult {
  const label = `key ${JSON.stringify(key)}`;
  const writers = new Map<string, number>();
  for (const o of ops) {
    const v = writtenValue(o.input);
    if (v !== null) writers.set(v, (writers.get(v) ?? 0) + 1);
  }
  const observed = new Map<string, { ret: number; rev?: bigint }>();
  const note = (v: string, ret: number, rev: bigint | undefined): void => {
    const p = observed.get(v);
    if (p === undefined) observed.set(v, { ret, rev });
    else {
      if (ret < p.ret) p.ret = ret;
      p.rev ??= rev;
    }
  };
  for (const o of ops) {
    if (o.ret === undefined) continue;
    if (o.output?.f === 'get' && o.output.value !== null) note(o.output.value, o.ret, o.output.modRevision);
    if (o.input.f === 'cas' && o.input.ifValue !== undefined && o.output?.f === 'cas' && o.output.succeeded) note(o.input.ifValue, o.ret, undefined);
  }
  const resolved = ops.map((o): KvOp => {
    if (o.output !== undefined || (o.input.f !== 'put' && o.input.f !== 'cas')) return o;
    const seen = writers.get(o.input.value) === 1 ? observed.get(o.input.value) : undefined;
    if (seen === undefined || seen.ret < o.call) return o;
    const output: KvOutput = o.input.f === 'put' ? { f: 'put', header: seen.rev } : { f: 'cas', succeeded: true, header: seen.rev };
    return { ...o, output, ret: seen.ret, inferred: true };
  });
  const known = resolved.filter((o) => o.output !== undefined);
  const first = checkLinearizable(kvModel, known, { stepsMax: opts.stepsMax, label, chain: revisionChain(known) });
  const rest = resolved.filter((o) => !(o.output === undefined && o.input.f === 'get'));
  if (first.verdict === 'ok' || rest.length === known.length) return first;
  const full = checkLinearizable(kvModel, rest, { stepsMax: opts.stepsMax, label, chain: revisionChain(rest) });
  return { ...full, steps: full.steps + first.steps } as CheckResult;
}

/**
 * The writes of one key that answered their revision can only be linearized in revision order
 * (the model's floor): their ranks for checkLinearizable's chain.
 */
function revisionChain(ops: readonly KvOp[]): number[] {
  const ranked = ops
    .map((o, i) => ({ i, rev: writeRevision(o.output) }))
    .filter((x): x is { i: number; rev: bigint } => x.rev !== undefined)
    .sort((a, b) => (a.rev < b.rev ? -1 : a.rev > b.rev ? 1 : a.i - b.i));
  const chain = new Array<number>(ops.length).fill(-1);
  ranked.forEach((x, k) => (chain[x.i] = k));
  return chain;
}

/** Header revisions never go back in real time; no two writes answer the same revision. */
export function checkRevisions(ops: readonly KvOp[], max = 5): string[] {
  const out: string[] = [];
  const done = ops.filter((o) => o.output?.header !== undefined && o.ret !== undefined);
  const byRet = [...done].sort((a, b) => (a.ret as number) - (b.ret as number));
  const byCall = [...done].sort((a, b) => a.call - b.call);
  let k = 0;
  let maxOp: KvOp | null = null;
  for (const o of byCall) {
    while (k < byRet.length && ((byRet[k] as KvOp).ret as number) < o.call) {
      const r = byRet[k] as KvOp;
      if (maxOp === null || (r.output?.header as bigint) > (maxOp.output?.header as bigint)) maxOp = r;
      k++;
    }
    if (maxOp !== null && (o.output?.header as bigint) < (maxOp.output?.header as bigint) && out.length < max) {
      out.push(`revision went back in real time: ${describeKvOp(maxOp)} returned before ${describeKvOp(o)} was called`);
    }
  }
  const byRev = new Map<bigint, KvOp>();
  for (const o of ops) {
    const r = writeRevision(o.output);
    if (r === undefined) continue;
    const other = byRev.get(r);
    if (other !== undefined && out.length < max) out.push(`two writes answered revision ${r}: ${describeKvOp(other)} and ${describeKvOp(o)}`);
    byRev.set(r, o);
  }
  return out;
}

export function checkKvHistory(ops: readonly KvOp[], opts: KvCheckOptions = {}): KvCheckReport {
  const t0 = performance.now();
  const violationsMax = opts.violationsMax ?? 5;
  const violations = checkRevisions(ops, violationsMax);
  const byKey = new Map<string, KvOp[]>();
  for (const o of ops) {
    let l = byKey.get(o.key);
    if (!l) byKey.set(o.key, (l = []));
    l.push(o);
  }
  let steps = 0;
  let inconclusive = false;
  for (const [key, list] of [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const r = checkKey(key, list, opts);
    steps += r.steps;
    if (r.verdict === 'unknown') inconclusive = true;
    if (r.verdict !== 'ok' && violations.length < violationsMax) violations.push(r.explanation);
  }
  return {
    ok: violations.length === 0 && !inconclusive,
    inconclusive,
    violations,
    keys: byKey.size,
    ops: ops.length,
    ambiguous: ops.filter((o) => o.output === undefined).length,
    steps,
    ms: performance.now() - t0,
  };
}

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
  const err = op.output === undefined && op.error !== undefined ? ` (${op.error})` : '';
  return `#${op.id} c${op.client}${where} ${op.key} ${describeInput(op.input)} → ${describeOutput(op.output)}${err} [${fmtTime(op.call)}–${fmtTime(op.output === undefined ? undefined : op.ret)}]`;
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
 * One key's history. First without the writes of unknown outcome that nothing ever observed
 * (no read returned their value, no successful value-compare named it): "never took effect" is
 * a valid choice for each of them, so if the rest is linearizable so is the whole. Only if that
 * fails is the full history searched (those writes may explain a failed compare or delete).
 */
export function checkKey(key: string, ops: KvOp[], opts: KvCheckOptions = {}): CheckResult {
  const label = `key ${JSON.stringify(key)}`;
  const seen = new Set<string>();
  for (const o of ops) {
    if (o.output?.f === 'get' && o.output.value !== null) seen.add(o.output.value);
    if (o.input.f === 'cas' && o.input.ifValue !== undefined && o.output?.f === 'cas' && o.output.succeeded) seen.add(o.input.ifValue);
  }
  const unobserved = (o: KvOp): boolean => {
    if (o.output !== undefined) return false;
    const v = writtenValue(o.input);
    return o.input.f === 'get' || (v !== null && !seen.has(v));
  };
  const reduced = ops.filter((o) => !unobserved(o));
  const first = checkLinearizable(kvModel, reduced, { stepsMax: opts.stepsMax, label });
  if (first.verdict === 'ok' || reduced.length === ops.length) return first;
  const full = checkLinearizable(
    kvModel,
    ops.filter((o) => !(o.output === undefined && o.input.f === 'get')),
    { stepsMax: opts.stepsMax, label },
  );
  return { ...full, steps: full.steps + first.steps } as CheckResult;
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

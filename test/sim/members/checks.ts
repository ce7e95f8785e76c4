/**
 * The checks every seed ends with, over what the run recorded (history.ts):
 * - linearizability of the client history on the checked keys (a write without an answer may
 *   have taken effect or not), by the pluggable checker;
 * - a serializable read returns the key as it was at the revision its header names;
 * - no acknowledged write lost: the revision it was told is, in the truth and in the retained
 *   history of every member at the end, that very change;
 * - every watch saw each change of its range exactly once, in revision order, from its start
 *   revision on, with no gap up to the revision it last knew complete, each one as applied;
 * - no lease expired early: its revoke did not apply before its TTL had run since the last
 *   call (grant or keepalive) the client was told succeeded, unless the client revoked it;
 * - the members converged: equal HashKV at equal revision, equal retained histories.
 * (Members agreeing on each revision as they apply it is checked during the run, in run.ts;
 * "no member stuck" in its quiet phase.)
 */
import { describeEvent, sameEvent, type LinearizabilityChecker, type SeenEvent, type WatchRecord } from './history.js';
import type { Sim } from './run.js';

const violationsPerCheckMax = 5;

function inRange(key: string, w: WatchRecord): boolean {
  if (w.end === null) return key === w.key;
  return key >= w.key && key < w.end;
}

export function runChecks(sim: Sim, checker: LinearizabilityChecker): string[] {
  const out: string[] = [];
  const h = sim.history;
  const truth = h.truth;

  // Revisions nobody saw applied (installed by a snapshot everywhere) may still be in the
  // members' retained histories.
  for (const f of sim.finals) {
    const byRev = new Map<bigint, SeenEvent[]>();
    for (const e of f.history) {
      let l = byRev.get(e.modRevision);
      if (!l) byRev.set(e.modRevision, (l = []));
      l.push(e);
    }
    for (const [rev, evs] of byRev) if (!truth.has(rev)) truth.set(rev, evs);
  }
  // Every revision from 2 up to here is known.
  let knownTo = 1n;
  while (truth.has(knownTo + 1n)) knownTo++;

  // Linearizability.
  const lin = checker(h.kv);
  for (const v of lin.violations.slice(0, violationsPerCheckMax)) out.push(`not linearizable: ${v}`);

  // Serializable reads.
  const stateAt = (key: string, rev: bigint): SeenEvent | null => {
    for (let r = rev; r >= 2n; r--) {
      const e = (truth.get(r) ?? []).find((x) => x.key === key);
      if (e) return e.type === 'put' ? e : null;
    }
    return null;
  };
  let bad = 0;
  for (const s of h.serializable) {
    if (s.header > knownTo || bad >= violationsPerCheckMax) continue;
    const e = stateAt(s.key, s.header);
    const value = e?.value ?? null;
    const mod = e?.modRevision ?? 0n;
    if (value !== s.value || mod !== s.modRevision) {
      bad++;
      out.push(`serializable read on ${s.member} at t=${s.at.toFixed(1)}: ${s.key} = ${JSON.stringify(s.value)} (mod ${s.modRevision}) at header revision ${s.header}, but at that revision it was ${JSON.stringify(value)} (mod ${mod})`);
    }
  }

  // Ranges over the prefix: the keys exactly as they were at the revision read.
  bad = 0;
  for (const g of h.ranges) {
    const at = g.rev > 0n ? g.rev : g.header;
    if (at > knownTo || bad >= violationsPerCheckMax) continue;
    const want = new Map<string, SeenEvent>();
    for (let r = 2n; r <= at; r++) {
      for (const e of truth.get(r) ?? []) {
        if (!(e.key >= 'k' && e.key < 'l')) continue;
        if (e.type === 'put') want.set(e.key, e);
        else want.delete(e.key);
      }
    }
    const wantList = [...want.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
    const got = g.kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}/c${kv.createRevision}/v${kv.version}`).join(' ');
    const exp = wantList.map((e) => `${e.key}=${e.value}@${e.modRevision}/c${e.createRevision}/v${e.version}`).join(' ');
    if (got !== exp) {
      bad++;
      out.push(`range of the k prefix on ${g.member}${g.serializable ? ' (serializable)' : ''} at t=${g.at.toFixed(1)} read revision ${at}${g.rev > 0n ? ' (asked)' : ''}: got [${got}], but at that revision it was [${exp}]`);
    }
  }

  // Acknowledged writes.
  bad = 0;
  for (const a of h.acked) {
    if (bad >= violationsPerCheckMax) break;
    const matches = (evs: SeenEvent[] | undefined): boolean | undefined => {
      if (evs === undefined) return undefined;
      const e = evs.find((x) => x.key === a.key);
      return e !== undefined && (a.value === null ? e.type === 'delete' : e.type === 'put' && e.value === a.value);
    };
    const what = `${a.value === null ? 'delete of' : 'put of'} ${a.key}${a.value === null ? '' : `=${JSON.stringify(a.value)}`} acknowledged at revision ${a.revision} (op #${a.opId})`;
    const t = matches(truth.get(a.revision));
    if (t === false) {
      bad++;
      out.push(`acknowledged write lost: ${what}, but revision ${a.revision} is [${(truth.get(a.revision) ?? []).map(describeEvent).join('; ')}]`);
      continue;
    }
    for (const f of sim.finals) {
      if (a.revision <= f.compactRev || a.revision > f.rev) continue;
      if (matches(f.history.filter((e) => e.modRevision === a.revision)) !== true) {
        bad++;
        out.push(`acknowledged write lost on ${f.member}: ${what} is not in its history at the end`);
        break;
      }
    }
  }

  // Convergence.
  const f0 = sim.finals[0];
  for (const f of sim.finals.slice(1)) {
    if (f0 === undefined) break;
    // HashKV covers the records a compaction kept: compare members that compacted alike (a
    // compaction changes no revision, so equal revisions do not mean equal compactions).
    if (f.rev === f0.rev && f.compactRev === f0.compactRev && f.hash !== f0.hash) {
      const k = f0.records.findIndex((x, i) => f.records[i] !== x);
      const at = k >= 0 ? k : f0.records.length;
      const where =
        k < 0 && f0.records.length === f.records.length
          ? 'their MVCC records read right after are the same: a hash saw another state of the store'
          : `their MVCC records differ first at record #${at}: ${f0.member} has ${f0.records[at] ?? 'nothing'}, ${f.member} has ${f.records[at] ?? 'nothing'}`;
      out.push(`members diverged: HashKV at revision ${f.rev} (compacted at ${f.compactRev}) is ${f0.hash} on ${f0.member} but ${f.hash} on ${f.member}; ${where}`);
    }
    const from = f.compactRev > f0.compactRev ? f.compactRev : f0.compactRev;
    const a = f0.history.filter((e) => e.modRevision > from);
    const b = f.history.filter((e) => e.modRevision > from);
    const k = a.findIndex((e, i) => b[i] === undefined || !sameEvent(e, b[i] as SeenEvent));
    if (k >= 0 || a.length !== b.length) {
      const at = k >= 0 ? k : Math.min(a.length, b.length);
      out.push(`members diverged: after revision ${from}, ${f0.member} has ${a[at] ? describeEvent(a[at]) : 'nothing'} where ${f.member} has ${b[at] ? describeEvent(b[at]) : 'nothing'}`);
    }
  }

  // Watches.
  bad = 0;
  for (const w of h.watches) {
    if (bad >= violationsPerCheckMax) break;
    if (w.startRev === 0n) continue; // never created
    const fail = (why: string): void => {
      bad++;
      out.push(`watch #${w.id} on ${w.member} of ${w.end === null ? w.key : `[${w.key}, ${w.end})`} from revision ${w.startRev}${w.askedRev === 0n ? ' (now)' : ''}, opened at t=${w.createdAt.toFixed(1)}, ended ${w.end_}: ${why}`);
    };
    let prev = 0n;
    let ok = true;
    for (const e of w.events) {
      if (!inRange(e.key, w)) {
        fail(`got ${describeEvent(e)}, outside its range`);
        ok = false;
        break;
      }
      if (e.modRevision < w.startRev) {
        fail(`got ${describeEvent(e)}, before its start revision`);
        ok = false;
        break;
      }
      if (e.modRevision <= prev) {
        fail(`got ${describeEvent(e)} after an event at revision ${prev} (twice, or out of order)`);
        ok = false;
        break;
      }
      prev = e.modRevision;
    }
    if (!ok) continue;
    const last = w.syncedTo > prev ? w.syncedTo : prev;
    const got = new Map(w.events.map((e) => [`${e.modRevision}/${e.key}`, e]));
    for (let r = w.startRev; r <= last; r++) {
      const evs = truth.get(r);
      if (evs === undefined) continue;
      const want = evs.filter((e) => inRange(e.key, w));
      const miss = want.find((e) => {
        const g = got.get(`${e.modRevision}/${e.key}`);
        return g === undefined || !sameEvent(g, e);
      });
      if (miss !== undefined) {
        const g = got.get(`${miss.modRevision}/${miss.key}`);
        fail(g ? `got ${describeEvent(g)} but revision ${r} is ${describeEvent(miss)}` : `missed ${describeEvent(miss)} (it saw events up to revision ${prev}${w.syncedTo > 0n ? `, and was told it had everything up to ${w.syncedTo}` : ''})`);
        break;
      }
      const extra = w.events.find((e) => e.modRevision === r && !want.some((x) => x.key === e.key));
      if (extra !== undefined) {
        fail(`got ${describeEvent(extra)}, which is not what revision ${r} changed`);
        break;
      }
    }
  }

  // Leases.
  bad = 0;
  for (const [id, l] of h.leases) {
    if (bad >= violationsPerCheckMax) break;
    const rv = h.revokedAt.get(id);
    if (rv === undefined) continue;
    if (l.revokeCalledAt !== null && l.revokeCalledAt <= rv.at) continue;
    const lastAlive = Math.max(...l.aliveCalls);
    if (rv.at < lastAlive + l.ttlMs) {
      bad++;
      out.push(
        `lease ${id.toString(16)} expired early: its revoke applied at t=${rv.at.toFixed(1)} (first on ${rv.member}), but the client was told it was alive by a call made at t=${lastAlive.toFixed(1)} with TTL ${l.ttlMs} ms (so not before t=${(lastAlive + l.ttlMs).toFixed(1)})`,
      );
    }
  }
  return out;
}

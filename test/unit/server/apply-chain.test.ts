/**
 * The apply chain (src/server/apply-chain.ts) in etcd's order — corrupt → capped → auth →
 * backend: each stage refuses what etcd's applier refuses and passes the rest on, and an earlier
 * stage decides before a later one is asked (CORRUPT over NOSPACE, NOSPACE over a permission
 * denial, a denial before any effect). Then the same through a real one-member EtcdServer: with
 * NOSPACE a put is refused but a delete applies; with CORRUPT the delete is refused too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdError, Errors, type ErrorSpec } from '../../../src/api/errors.js';
import type { TxnRequest } from '../../../src/api/kv-types.js';
import { WriteBatch } from '../../../src/storage/backend.js';
import { AlarmAction, AlarmStore, AlarmType } from '../../../src/server/alarms.js';
import { applyRequest, applyStages, type ApplyStage } from '../../../src/server/apply-chain.js';
import { RequestKind, type InternalRequest } from '../../../src/server/internal-request.js';
import type { ApplyResult } from '../../../src/server/proposer.js';
import { EtcdServer } from '../../../src/server/etcd-server.js';
import { MemHub } from '../../helpers/mem-hub.js';
import { inprocIds, inprocOptions } from '../../helpers/inproc-cluster.js';

const enc = (s: string): Buffer => Buffer.from(s);
const putReq = (k: string) => ({ key: enc(k), value: enc('v'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });
const delReq = (k: string) => ({ key: enc(k), range_end: Buffer.alloc(0), prev_kv: false });
const txnReq = (withPut: boolean): TxnRequest => ({
  compare: [],
  success: withPut ? [{ request: 'request_put', request_put: putReq('t') }] : [{ request: 'request_delete_range', request_delete_range: delReq('t') }],
  failure: [],
});

const requests: Record<string, InternalRequest> = {
  put: { kind: RequestKind.Put, id: 1n, req: putReq('a') },
  deleteRange: { kind: RequestKind.DeleteRange, id: 2n, req: delReq('a') },
  txnWithPut: { kind: RequestKind.Txn, id: 3n, req: txnReq(true) },
  txnWithoutPut: { kind: RequestKind.Txn, id: 4n, req: txnReq(false) },
  compaction: { kind: RequestKind.Compaction, id: 5n, req: { revision: 1n, physical: false } },
  alarm: { kind: RequestKind.Alarm, id: 6n, req: { action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE } },
};

/** Records what reached the end of the chain. */
class Recorder implements ApplyStage {
  readonly seen: bigint[] = [];
  apply(r: InternalRequest): ApplyResult {
    this.seen.push(r.id);
    return { ok: true, value: 'applied' };
  }
}

/** An auth stage's gate that denies everything (as a user without permission) and counts asks. */
function denyingGate(): { asked: number; applyCheck(): EtcdError } {
  return {
    asked: 0,
    applyCheck() {
      this.asked++;
      return new EtcdError(Errors.PermissionDenied);
    },
  };
}

/** The member's chain (applyStages, as buildApplyChain builds it) ending in `end`. */
function chain(alarms: AlarmStore, gate: { applyCheck(): EtcdError | null }, end: ApplyStage): ApplyStage {
  return applyStages(alarms, () => gate, () => [], end);
}

function alarmsWith(...types: number[]): AlarmStore {
  const a = new AlarmStore();
  for (const t of types) a.apply({ action: AlarmAction.ACTIVATE, memberID: 7n, alarm: t }, new WriteBatch());
  return a;
}

function refusal(res: ApplyResult): ErrorSpec | 'applied' {
  if (res.ok) return 'applied';
  expect(res.err).toBeInstanceOf(EtcdError);
  return (res.err as EtcdError).spec;
}

const run = (c: ApplyStage, name: string): ErrorSpec | 'applied' => refusal(applyRequest(c, requests[name] as InternalRequest, new WriteBatch(), 10n));
const allow = { applyCheck: (): null => null };

describe('the apply chain, stage by stage', () => {
  it('NOSPACE (capped) refuses puts and txns with puts, and passes deletes, compaction and read-only txns on', () => {
    const end = new Recorder();
    const c = chain(alarmsWith(AlarmType.NOSPACE), allow, end);
    expect(run(c, 'put')).toBe(Errors.NoSpace);
    expect(run(c, 'txnWithPut')).toBe(Errors.NoSpace);
    expect(run(c, 'deleteRange')).toBe('applied');
    expect(run(c, 'txnWithoutPut')).toBe('applied');
    expect(run(c, 'compaction')).toBe('applied');
    expect(run(c, 'alarm')).toBe('applied');
    expect(end.seen).toEqual([2n, 4n, 5n, 6n]);
  });

  it('CORRUPT refuses every KV request, deletes and compaction included, but not alarm changes', () => {
    const end = new Recorder();
    const c = chain(alarmsWith(AlarmType.CORRUPT), allow, end);
    for (const name of ['put', 'deleteRange', 'txnWithPut', 'txnWithoutPut', 'compaction']) expect(run(c, name), name).toBe(Errors.Corrupt);
    expect(run(c, 'alarm')).toBe('applied');
    expect(end.seen).toEqual([6n]);
  });

  it('corrupt comes before capped: with both alarms a put fails as corrupt', () => {
    const c = chain(alarmsWith(AlarmType.NOSPACE, AlarmType.CORRUPT), allow, new Recorder());
    expect(run(c, 'put')).toBe(Errors.Corrupt);
  });

  it('capped comes before auth: a put refused for space never asks auth; a delete it lets through does', () => {
    const gate = denyingGate();
    const end = new Recorder();
    const c = chain(alarmsWith(AlarmType.NOSPACE), gate, end);
    expect(run(c, 'put')).toBe(Errors.NoSpace);
    expect(gate.asked).toBe(0);
    expect(run(c, 'deleteRange')).toBe(Errors.PermissionDenied);
    expect(gate.asked).toBe(1);
    expect(end.seen).toEqual([]);
  });

  it('auth comes before the backend: a denied request has no effect; with no alarm every kind is asked', () => {
    const gate = denyingGate();
    const end = new Recorder();
    const c = chain(new AlarmStore(), gate, end);
    for (const name of Object.keys(requests)) expect(run(c, name), name).toBe(Errors.PermissionDenied);
    expect(gate.asked).toBe(Object.keys(requests).length);
    expect(end.seen).toEqual([]);
  });

  it('an operating error (EtcdError) is a result; any other error is a bug and propagates', () => {
    const failing = (err: unknown): ApplyStage => ({
      apply: () => {
        throw err;
      },
    });
    expect(refusal(applyRequest(failing(new EtcdError(Errors.Compacted)), requests.put as InternalRequest, new WriteBatch(), 1n))).toBe(Errors.Compacted);
    expect(() => applyRequest(failing(new Error('bug')), requests.put as InternalRequest, new WriteBatch(), 1n)).toThrow('bug');
  });
});

describe('the apply chain in a one-member server', () => {
  const dirs: string[] = [];
  const servers: EtcdServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function until(cond: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const specOf = (p: Promise<unknown>): Promise<unknown> => p.then(
    () => 'applied',
    (e: unknown) => (e instanceof EtcdError ? e.spec : e),
  );

  it('with NOSPACE refuses a put but applies a delete of an existing key; with CORRUPT refuses the delete too', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-apply-chain-'));
    dirs.push(dir);
    const id = inprocIds[0] as bigint;
    const s = await EtcdServer.start(inprocOptions(new MemHub(), dir, 0, { members: [{ id, name: '', peerURLs: ['http://127.0.0.1:20000'], clientURLs: [], isLearner: false }] }));
    servers.push(s);
    await until(() => s.isLeader());
    await s.put(putReq('a'));
    await s.put(putReq('b'));
    const rev = s.kv.rev();

    await s.alarm({ action: AlarmAction.ACTIVATE, memberID: id, alarm: AlarmType.NOSPACE });
    expect(await specOf(s.put(putReq('c')))).toBe(Errors.NoSpace);
    expect(s.kv.rev()).toBe(rev);
    const del = await s.deleteRange(delReq('a'));
    expect(del.deleted).toBe(1n);
    expect(s.kv.rev()).toBe(rev + 1n);

    await s.alarm({ action: AlarmAction.ACTIVATE, memberID: id, alarm: AlarmType.CORRUPT });
    expect(await specOf(s.deleteRange(delReq('b')))).toBe(Errors.Corrupt);
    expect(s.kv.rev()).toBe(rev + 1n);
    expect((await s.range({ key: enc('b'), range_end: Buffer.alloc(0), limit: 0n, revision: 0n, sort_order: 0, sort_target: 0, serializable: true, keys_only: false, count_only: false, min_mod_revision: 0n, max_mod_revision: 0n, min_create_revision: 0n, max_create_revision: 0n })).count).toBe(1n);
  }, 60_000);
});

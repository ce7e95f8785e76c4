/**
 * The alarm store: etcd's apply semantics (activate once, deactivate what is there, GET by type
 * or all), persistence through the apply batch and reload at start-up, the apply restrictions
 * of NOSPACE and CORRUPT, and etcd's request cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Errors } from '../../../src/api/errors.js';
import type { TxnRequest } from '../../../src/api/kv-types.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { AlarmAction, AlarmStore, AlarmType, alarmText, putCost, txnCost } from '../../../src/server/alarms.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const put = (k: string, v: string) => ({
  request: 'request_put' as const,
  request_put: { key: Buffer.from(k), value: Buffer.from(v), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false },
});
const del = (k: string) => ({ request: 'request_delete_range' as const, request_delete_range: { key: Buffer.from(k), range_end: Buffer.alloc(0), prev_kv: false } });
const txn = (success: TxnRequest['success'], failure: TxnRequest['failure'] = []): TxnRequest => ({ compare: [], success, failure });

describe('alarm store', () => {
  it('activates once, deactivates what is active, lists by type, and survives a restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alarms-'));
    dirs.push(dir);
    let backend = await Backend.open(dir);
    const a = new AlarmStore();
    await a.load(backend);
    const b = new WriteBatch();
    expect(a.apply({ action: AlarmAction.ACTIVATE, memberID: 7n, alarm: AlarmType.NOSPACE }, b).alarms).toEqual([{ memberID: 7n, alarm: 1 }]);
    expect(a.apply({ action: AlarmAction.ACTIVATE, memberID: 7n, alarm: AlarmType.NOSPACE }, b).alarms).toEqual([{ memberID: 7n, alarm: 1 }]);
    a.apply({ action: AlarmAction.ACTIVATE, memberID: 3n, alarm: AlarmType.CORRUPT }, b);
    a.apply({ action: AlarmAction.ACTIVATE, memberID: 5n, alarm: AlarmType.NOSPACE }, b);
    expect(a.apply({ action: AlarmAction.ACTIVATE, memberID: 5n, alarm: AlarmType.NONE }, b).alarms).toEqual([]);
    expect(a.apply({ action: AlarmAction.DEACTIVATE, memberID: 9n, alarm: AlarmType.NOSPACE }, b).alarms).toEqual([]);
    expect(a.get(AlarmType.NONE)).toEqual([
      { memberID: 5n, alarm: 1 },
      { memberID: 7n, alarm: 1 },
      { memberID: 3n, alarm: 2 },
    ]);
    expect(a.apply({ action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.CORRUPT }, b).alarms).toEqual([{ memberID: 3n, alarm: 2 }]);
    expect(a.apply({ action: AlarmAction.DEACTIVATE, memberID: 3n, alarm: AlarmType.CORRUPT }, b).alarms).toEqual([{ memberID: 3n, alarm: 2 }]);
    await backend.commit(b);
    await backend.close();
    backend = await Backend.open(dir);
    const again = new AlarmStore();
    await again.load(backend);
    expect(again.get(AlarmType.NONE)).toEqual([
      { memberID: 5n, alarm: 1 },
      { memberID: 7n, alarm: 1 },
    ]);
    await backend.close();
  });

  it('restricts apply as etcd: NOSPACE refuses puts and txns with puts, CORRUPT refuses everything', () => {
    const a = new AlarmStore();
    const b = new WriteBatch();
    expect(a.applyCheck('put')).toBeNull();
    a.apply({ action: AlarmAction.ACTIVATE, memberID: 1n, alarm: AlarmType.NOSPACE }, b);
    expect(a.applyCheck('put')?.spec).toBe(Errors.NoSpace);
    expect(a.applyCheck('txn', txn([put('k', 'v')]))?.spec).toBe(Errors.NoSpace);
    expect(a.applyCheck('txn', txn([del('k')], [{ request: 'request_range', request_range: null }]))).toBeNull();
    expect(a.applyCheck('deleteRange')).toBeNull();
    expect(a.applyCheck('compaction')).toBeNull();
    a.apply({ action: AlarmAction.ACTIVATE, memberID: 1n, alarm: AlarmType.CORRUPT }, b);
    expect(a.applyCheck('deleteRange')?.spec).toBe(Errors.Corrupt);
    expect(alarmText({ memberID: 7383792418829112008n, alarm: 1 })).toBe('memberID:7383792418829112008 alarm:NOSPACE ');
  });

  it('costs requests as etcd quota.go: 256 bytes of overhead per put, the larger txn branch', () => {
    expect(putCost(Buffer.from('key'), Buffer.from('value'))).toBe(256 + 3 + 5);
    expect(txnCost(txn([put('a', 'xx'), del('b')], [put('c', 'y'), put('d', 'z')]))).toBe(2 * 258);
    expect(txnCost(txn([del('a')]))).toBe(0);
  });
});

describe('alarm request in the Raft log', () => {
  it('round-trips through the internal request encoding with a full 64-bit member id', async () => {
    const { decodeInternal, encodeInternal, RequestKind } = await import('../../../src/server/internal-request.js');
    const req = { action: AlarmAction.DEACTIVATE, memberID: 0xfedcba9876543210n, alarm: AlarmType.NOSPACE };
    const back = decodeInternal(encodeInternal({ kind: RequestKind.Alarm, id: 5n, req }));
    expect(back).toEqual({ kind: RequestKind.Alarm, id: 5n, req });
  });
});

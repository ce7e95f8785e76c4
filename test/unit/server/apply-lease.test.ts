/**
 * Lease apply over a real MVCC store: attachment through Put/Txn (lease, ignore_lease, a put
 * without lease detaching), revoke deleting every attached key in one revision with DELETE
 * events, unknown leases refused as etcd, and leases with their keys surviving a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/base/clock.js';
import { EtcdError, Errors } from '../../../src/api/errors.js';
import { EventType, type PutRequest, type TxnRequest } from '../../../src/api/kv-types.js';
import { Lessor } from '../../../src/lease/lessor.js';
import { KvStore } from '../../../src/mvcc/kv-store.js';
import { applyPut, applyTxn, applyDeleteRange } from '../../../src/server/apply-kv.js';
import { applyLeaseCheckpoint, applyLeaseGrant, applyLeaseRevoke } from '../../../src/server/apply-lease.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const b = (s: string): Buffer => Buffer.from(s);

function put(key: string, value: string, lease = 0n, extra: Partial<PutRequest> = {}): PutRequest {
  return { key: b(key), value: b(value), lease, prev_kv: false, ignore_value: false, ignore_lease: false, ...extra };
}

async function open(dir: string): Promise<{ be: Backend; lessor: Lessor; kv: KvStore }> {
  const be = await Backend.open(dir);
  const lessor = new Lessor({ clock: new ManualClock(), minTtl: 2n, host: { proposeRevoke: () => undefined, proposeCheckpoints: () => undefined } });
  await lessor.load(be);
  const kv = await KvStore.open(be, { leases: lessor });
  return { be, lessor, kv };
}

async function fresh(): Promise<{ be: Backend; lessor: Lessor; kv: KvStore; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apply-lease-'));
  dirs.push(dir);
  return { ...(await open(dir)), dir };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return null;
}

describe('lease apply', () => {
  it('grants with the header revision of the store, and refuses a second grant of the same id', async () => {
    const { be, lessor, kv } = await fresh();
    const batch = new WriteBatch();
    applyPut(kv, batch, put('x', '1'));
    const r = applyLeaseGrant(lessor, kv, batch, { ID: 100n, TTL: 1n });
    expect(r.resp).toEqual({ header: { revision: 2n }, ID: 100n, TTL: 2n, error: '' });
    expect((thrown(() => applyLeaseGrant(lessor, kv, batch, { ID: 100n, TTL: 10n })) as EtcdError).spec).toBe(Errors.LeaseExist);
    await be.commit(batch);
    await be.close();
  });

  it('attaches on put, keeps with ignore_lease, detaches on a put without lease or a delete', async () => {
    const { be, lessor, kv } = await fresh();
    const batch = new WriteBatch();
    applyLeaseGrant(lessor, kv, batch, { ID: 1n, TTL: 10n });
    applyLeaseGrant(lessor, kv, batch, { ID: 2n, TTL: 10n });
    applyPut(kv, batch, put('a', '1', 1n));
    applyPut(kv, batch, put('b', '1', 1n));
    applyPut(kv, batch, put('c', '1', 1n));
    expect(lessor.keysOf(1n).map(String)).toEqual(['a', 'b', 'c']);
    applyPut(kv, batch, put('a', '2', 0n, { ignore_lease: true }));
    expect(kv.range(b('a'), null).kvs[0]?.lease).toBe(1n);
    applyPut(kv, batch, put('b', '2'));
    applyDeleteRange(kv, batch, { key: b('c'), range_end: Buffer.alloc(0), prev_kv: false });
    expect(lessor.keysOf(1n).map(String)).toEqual(['a']);
    // moving a key to another lease (in a txn)
    const t: TxnRequest = { compare: [], success: [{ request: 'request_put', request_put: put('a', '3', 2n) }], failure: [] };
    applyTxn(kv, batch, t);
    expect(lessor.keysOf(1n)).toEqual([]);
    expect(lessor.keysOf(2n).map(String)).toEqual(['a']);
    await be.commit(batch);
    await be.close();
  });

  it('refuses a put or txn put with an unknown lease: "requested lease not found", nothing written', async () => {
    const { be, lessor, kv } = await fresh();
    const batch = new WriteBatch();
    const rev = kv.rev();
    expect((thrown(() => applyPut(kv, batch, put('a', '1', 77n))) as EtcdError).spec).toBe(Errors.LeaseNotFound);
    const t: TxnRequest = { compare: [], success: [{ request: 'request_put', request_put: put('a', '1', 77n) }], failure: [] };
    expect((thrown(() => applyTxn(kv, batch, t)) as EtcdError).spec).toBe(Errors.LeaseNotFound);
    expect(kv.rev()).toBe(rev);
    expect(lessor.size).toBe(0);
    await be.close();
  });

  it('revokes: every attached key deleted in ONE revision, DELETE events in key order, lease gone', async () => {
    const { be, lessor, kv } = await fresh();
    const batch = new WriteBatch();
    applyLeaseGrant(lessor, kv, batch, { ID: 9n, TTL: 10n });
    for (const k of ['k3', 'k1', 'k2']) applyPut(kv, batch, put(k, 'v', 9n));
    applyPut(kv, batch, put('other', 'v'));
    const before = kv.rev();
    const r = applyLeaseRevoke(lessor, kv, batch, { ID: 9n });
    expect(r.resp.header.revision).toBe(before + 1n);
    expect(r.events.map((e) => [e.type, e.kv.key.toString(), e.kv.mod_revision])).toEqual([
      [EventType.DELETE, 'k1', before + 1n],
      [EventType.DELETE, 'k2', before + 1n],
      [EventType.DELETE, 'k3', before + 1n],
    ]);
    expect(kv.range(b('k'), b('l')).kvs).toEqual([]);
    expect(kv.range(b('other'), null).count).toBe(1);
    expect(lessor.exists(9n)).toBe(false);
    expect((thrown(() => applyLeaseRevoke(lessor, kv, batch, { ID: 9n })) as EtcdError).spec).toBe(Errors.LeaseNotFound);
    await be.commit(batch);
    await be.close();
  });

  it('revoking a lease without keys consumes no revision', async () => {
    const { be, lessor, kv } = await fresh();
    const batch = new WriteBatch();
    applyLeaseGrant(lessor, kv, batch, { ID: 9n, TTL: 10n });
    const rev = kv.rev();
    const r = applyLeaseRevoke(lessor, kv, batch, { ID: 9n });
    expect(r).toEqual({ resp: { header: { revision: rev } }, events: [] });
    await be.close();
  });

  it('restores leases, checkpoints and attachments after a restart', async () => {
    const { be, lessor, kv, dir } = await fresh();
    const batch = new WriteBatch();
    applyLeaseGrant(lessor, kv, batch, { ID: 1n, TTL: 60n });
    applyLeaseGrant(lessor, kv, batch, { ID: 2n, TTL: 30n });
    applyPut(kv, batch, put('a', '1', 1n));
    applyPut(kv, batch, put('b', '1', 2n));
    applyPut(kv, batch, put('b', '2', 1n)); // moved to lease 1
    applyPut(kv, batch, put('c', '1', 2n));
    applyDeleteRange(kv, batch, { key: b('c'), range_end: Buffer.alloc(0), prev_kv: false });
    applyLeaseCheckpoint(lessor, kv, batch, { checkpoints: [{ ID: 2n, remaining_TTL: 12n }, { ID: 404n, remaining_TTL: 1n }] });
    await be.commit(batch);
    await be.close();
    const again = await open(dir);
    expect(again.lessor.state(1n)).toEqual({ ttl: 60n, remaining: 0n, keys: [b('a'), b('b')] });
    expect(again.lessor.state(2n)).toEqual({ ttl: 30n, remaining: 12n, keys: [] });
    expect(again.lessor.exists(404n)).toBe(false);
    await again.be.close();
  });
});

describe('lease requests under alarms (etcd applierV3Capped / applierV3Corrupt)', () => {
  it('NOSPACE refuses grants only; CORRUPT refuses grants and revokes; checkpoints always apply', async () => {
    const { leaseAlarmCheck } = await import('../../../src/server/apply-lease.js');
    const { RequestKind } = await import('../../../src/server/internal-request.js');
    const { AlarmType } = await import('../../../src/server/alarms.js');
    const with_ = (a: number) => (x: number): boolean => x === a;
    expect(leaseAlarmCheck(with_(AlarmType.NOSPACE), RequestKind.LeaseGrant)?.spec).toBe(Errors.NoSpace);
    expect(leaseAlarmCheck(with_(AlarmType.NOSPACE), RequestKind.LeaseRevoke)).toBeNull();
    expect(leaseAlarmCheck(with_(AlarmType.CORRUPT), RequestKind.LeaseGrant)?.spec).toBe(Errors.Corrupt);
    expect(leaseAlarmCheck(with_(AlarmType.CORRUPT), RequestKind.LeaseRevoke)?.spec).toBe(Errors.Corrupt);
    expect(leaseAlarmCheck(with_(AlarmType.CORRUPT), RequestKind.LeaseCheckpoint)).toBeNull();
    expect(leaseAlarmCheck(() => false, RequestKind.LeaseGrant)).toBeNull();
  });
});

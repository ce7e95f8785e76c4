/**
 * The lessor on a simulated clock (no sleeps): grant, renew, expiry decided by the primary only,
 * remaining-TTL checkpoints surviving a change of primary, rate-limited revokes, bounded queues,
 * and restart from the backend.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/base/clock.js';
import { EtcdError, Errors } from '../../../src/api/errors.js';
import { Lessor, minLeaseTtlSeconds, type LeaseCheckpoint, type LessorOptions } from '../../../src/lease/lessor.js';
import { TimeHeap } from '../../../src/lease/time-heap.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { leaseKey } from '../../../src/storage/schema.js';
import { decodeLeaseRecord } from '../../../src/lease/lease-record.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A lessor whose proposals are recorded; `applyRevokes` plays the log's apply of them. */
function setup(opts: Partial<LessorOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const revokes: bigint[] = [];
  const checkpoints: LeaseCheckpoint[][] = [];
  const lessor = new Lessor({
    clock,
    minTtl: 2n,
    host: { proposeRevoke: (id) => revokes.push(id), proposeCheckpoints: (cps) => checkpoints.push(cps) },
    ...opts,
  });
  /** Advances time in small steps, ticking like the server's timer (every 100 ms). */
  const run = (ms: number): void => {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(Math.min(100, ms - t));
      lessor.tick();
    }
  };
  return { clock, lessor, revokes, checkpoints, run };
}

function err(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return null;
}

describe('minimum TTL', () => {
  it('is ceil(1.5 × election ticks × heartbeat) seconds, with etcd integer tick arithmetic', () => {
    expect(minLeaseTtlSeconds(1000, 100)).toBe(2n);
    expect(minLeaseTtlSeconds(500, 100)).toBe(1n);
    expect(minLeaseTtlSeconds(5000, 500)).toBe(8n);
    // 5 ticks of 300 ms: (15/2 = 7 ticks) × 300 = 2.1 s → 3 s
    expect(minLeaseTtlSeconds(1500, 300)).toBe(3n);
  });
});

describe('grant', () => {
  it('raises a short TTL to the minimum and persists the lease in the batch', () => {
    const { lessor } = setup();
    const b = new WriteBatch();
    expect(lessor.grant(7n, 1n, b)).toEqual({ id: 7n, ttl: 2n });
    expect(lessor.grant(8n, -5n, b)).toEqual({ id: 8n, ttl: 2n });
    expect(lessor.grant(9n, 60n, b)).toEqual({ id: 9n, ttl: 60n });
    const op = b.ops.find((o) => o.type === 'put' && o.key.equals(leaseKey(9n)));
    expect(op && op.type === 'put' && decodeLeaseRecord(op.value)).toEqual({ ttl: 60n, remaining: 0n });
  });

  it("fails as etcd: id 0 not found, existing id, TTL above 9e9 s — changing nothing", () => {
    const { lessor } = setup();
    const b = new WriteBatch();
    lessor.grant(5n, 10n, b);
    const n = b.size;
    expect((err(() => lessor.grant(0n, 10n, b)) as EtcdError).spec).toBe(Errors.LeaseNotFound);
    expect((err(() => lessor.grant(5n, 10n, b)) as EtcdError).spec).toBe(Errors.LeaseExist);
    expect((err(() => lessor.grant(6n, 9_000_000_001n, b)) as EtcdError).spec).toBe(Errors.LeaseTTLTooLarge);
    expect(b.size).toBe(n);
    expect(lessor.size).toBe(1);
    expect(lessor.state(5n)?.ttl).toBe(10n);
  });

  it('accepts negative ids (etcd only refuses 0)', () => {
    const { lessor } = setup();
    expect(lessor.grant(-42n, 5n, new WriteBatch()).id).toBe(-42n);
    expect(lessor.exists(-42n)).toBe(true);
  });
});

describe('expiry is decided by the primary only', () => {
  it('a demoted lessor never proposes a revoke, however much time passes', () => {
    const { lessor, revokes, run } = setup();
    lessor.grant(1n, 2n, new WriteBatch());
    run(60_000);
    expect(revokes).toEqual([]);
    expect(lessor.renew(1n)).toEqual({ kind: 'not-primary' });
  });

  it('the primary proposes the revoke once the TTL has passed, not before, and retries it after 3 s', () => {
    const { lessor, revokes, run } = setup();
    lessor.promote(0);
    lessor.grant(1n, 5n, new WriteBatch());
    run(4900);
    expect(revokes).toEqual([]);
    run(100);
    expect(revokes).toEqual([1n]);
    run(2900);
    expect(revokes).toEqual([1n]);
    run(100);
    expect(revokes).toEqual([1n, 1n]); // the first revoke was never applied
  });

  it('a renewal pushes the expiry a whole TTL from the renewal', () => {
    const { lessor, revokes, run } = setup();
    lessor.promote(0);
    lessor.grant(1n, 3n, new WriteBatch());
    for (let i = 0; i < 10; i++) {
      run(2000);
      expect(lessor.renew(1n)).toEqual({ kind: 'ok', ttl: 3n });
    }
    expect(revokes).toEqual([]);
    run(2900);
    expect(revokes).toEqual([]);
    run(100);
    expect(revokes).toEqual([1n]);
  });

  it('renewing an expired lease waits for its revoke (then the answer is TTL 0)', async () => {
    const { lessor, run } = setup();
    lessor.promote(0);
    lessor.grant(1n, 2n, new WriteBatch());
    run(2000);
    const r = lessor.renew(1n);
    expect(r.kind).toBe('expired');
    lessor.revoke(1n, new WriteBatch());
    await expect(r.kind === 'expired' && r.revoked).resolves.toBe(true);
    expect(lessor.renew(1n)).toEqual({ kind: 'not-found' });
  });

  it('a renewal waiting for a revoke gives up when the lessor is demoted', async () => {
    const { lessor, run } = setup();
    lessor.promote(0);
    lessor.grant(1n, 2n, new WriteBatch());
    run(2500);
    const r = lessor.renew(1n);
    lessor.demote();
    await expect(r.kind === 'expired' && r.revoked).resolves.toBe(false);
  });

  it('revokes at most the revoke rate per second when many leases expire together', () => {
    const { lessor, revokes, run } = setup({ revokeRatePerSec: 1000 });
    lessor.promote(0);
    const b = new WriteBatch();
    for (let i = 1; i <= 3000; i++) lessor.grant(BigInt(i), 10n, b);
    run(10_000);
    expect(revokes.length).toBeGreaterThan(0);
    expect(revokes.length).toBeLessThanOrEqual(500 + 100); // a half-second burst, then the rate
    const before = revokes.length;
    run(1000);
    expect(revokes.length - before).toBeLessThanOrEqual(1000);
    run(3000);
    expect(new Set(revokes).size).toBe(3000);
  });

  it('keeps its queues bounded under a storm of renewals', () => {
    const { lessor, clock } = setup();
    lessor.promote(0);
    const b = new WriteBatch();
    for (let i = 1; i <= 100; i++) lessor.grant(BigInt(i), 60n, b);
    for (let round = 0; round < 200; round++) {
      for (let i = 1; i <= 100; i++) lessor.renew(BigInt(i));
      clock.advance(10);
      lessor.tick();
    }
    const q = lessor.queueSizes();
    expect(q.expiries).toBeLessThanOrEqual(2 * 100 + 1024 + 100);
    expect(q.checkpoints).toBeLessThanOrEqual(2 * 100 + 1024 + 100);
  });
});

describe('remaining-TTL checkpoints', () => {
  it('proposes the remaining TTL (rounded up) every quarter TTL while more than that remains', () => {
    const { lessor, checkpoints, run } = setup();
    lessor.promote(0);
    lessor.grant(1n, 20n, new WriteBatch());
    run(5000);
    expect(checkpoints.flat()).toEqual([{ id: 1n, remaining: 15n }]);
    lessor.checkpoint(1n, 15n, new WriteBatch()); // applied
    run(5000);
    lessor.checkpoint(1n, 10n, new WriteBatch());
    run(5000);
    lessor.checkpoint(1n, 5n, new WriteBatch());
    run(4900);
    // from 15 s on, no more than one interval (5 s) remains: no further checkpoint
    expect(checkpoints.flat().map((c) => c.remaining)).toEqual([15n, 10n, 5n]);
  });

  it('costs no checkpoint for a lease renewed more often than the interval; checkpoints it once it goes idle', () => {
    const { lessor, checkpoints, run } = setup();
    lessor.promote(0);
    lessor.grant(1n, 20n, new WriteBatch());
    for (let i = 0; i < 15; i++) {
      run(4000);
      lessor.renew(1n);
    }
    expect(checkpoints).toEqual([]);
    run(10_000); // idle: the check after ≥ 5 s without renewal proposes the remaining TTL
    expect(checkpoints.flat().length).toBeGreaterThanOrEqual(1);
    expect(checkpoints.flat()[0]?.remaining).toBeLessThanOrEqual(15n);
  });

  it('a renewal after a checkpoint proposes a clear (0), so the replicated value never under-states', () => {
    const { lessor, checkpoints, run } = setup();
    lessor.promote(0);
    lessor.grant(1n, 20n, new WriteBatch());
    run(5000);
    lessor.checkpoint(1n, 15n, new WriteBatch());
    run(100);
    checkpoints.length = 0;
    lessor.renew(1n);
    run(100);
    expect(checkpoints.flat()).toEqual([{ id: 1n, remaining: 0n }]);
  });

  it('a renewal racing a proposed (not yet applied) checkpoint still proposes a clear after it', () => {
    const { lessor, checkpoints, run } = setup();
    lessor.promote(0);
    lessor.grant(1n, 20n, new WriteBatch());
    run(5000);
    expect(checkpoints.flat()).toEqual([{ id: 1n, remaining: 15n }]);
    lessor.renew(1n); // the checkpoint of 15 is in flight
    run(100);
    expect(checkpoints.flat()).toEqual([
      { id: 1n, remaining: 15n },
      { id: 1n, remaining: 0n },
    ]);
  });

  it('a new primary starts from the checkpoint: an election does not renew the lease (etcd #9888)', () => {
    // Two members apply the same log; A is primary, then A dies and B is promoted.
    const a = setup();
    const b = setup();
    a.lessor.promote(0);
    const grant = (l: Lessor): void => void l.grant(1n, 40n, new WriteBatch());
    grant(a.lessor);
    grant(b.lessor);
    a.run(30_000); // no keepalive for 30 s of a 40 s lease
    for (const cps of a.checkpoints) for (const c of cps) b.lessor.checkpoint(c.id, c.remaining, new WriteBatch());
    expect(b.lessor.state(1n)?.remaining).toBe(10n);
    b.clock.advance(30_000 + 1500); // B's clock: the same 30 s, then an election of 1.5 s
    b.lessor.promote(1000);
    b.run(10_900);
    expect(b.revokes).toEqual([]);
    b.run(200);
    // original expiry at 40 s; expired at 42.5 s (election 1.5 s + extend 1 s; the last
    // checkpoint was exact), where a renewed lease would live until 30 + 1.5 + 1 + 40 = 72.5 s
    expect(b.revokes).toEqual([1n]);
  });

  it('with checkpoints off, an election renews the whole TTL (etcd 3.4 default behaviour)', () => {
    const a = setup({ checkpoints: false });
    a.lessor.promote(0);
    a.lessor.grant(1n, 40n, new WriteBatch());
    a.run(30_000);
    expect(a.checkpoints).toEqual([]);
    a.lessor.demote();
    a.lessor.promote(1000);
    a.run(40_900);
    expect(a.revokes).toEqual([]);
    a.run(200);
    expect(a.revokes).toEqual([1n]);
  });

  it('spreads expiries after promotion when a pile-up would exceed the revoke rate', () => {
    const { lessor, clock } = setup({ revokeRatePerSec: 100 });
    const b = new WriteBatch();
    for (let i = 1; i <= 300; i++) lessor.grant(BigInt(i), 10n, b);
    lessor.promote(0);
    const expiries = lessor.ids().map((id) => lessor.lookup(id)?.remainingMs as number);
    // 300 leases, at most 75 per second ⇒ the last one 4 s after the first
    expect(Math.max(...expiries) - Math.min(...expiries)).toBeGreaterThanOrEqual(3900);
    expect(Math.min(...expiries)).toBe(10_000);
    void clock;
  });
});

describe('attachment', () => {
  it('tracks keys per lease and lists them in byte order for the revoke', () => {
    const { lessor } = setup();
    lessor.grant(1n, 10n, new WriteBatch());
    for (const k of ['b', 'a', '\xff', 'ab']) lessor.attach(1n, Buffer.from(k, 'latin1'));
    lessor.detach(1n, Buffer.from('ab'));
    expect(lessor.keysOf(1n).map((k) => k.toString('latin1'))).toEqual(['a', 'b', '\xff']);
    expect((err(() => lessor.revoke(1n, new WriteBatch())) as Error).name).toBe('AssertionError');
    for (const k of lessor.keysOf(1n)) lessor.detach(1n, k);
    lessor.revoke(1n, new WriteBatch());
    expect(lessor.exists(1n)).toBe(false);
  });
});

describe('restart', () => {
  it('reloads leases, TTLs and checkpointed remaining TTLs from the backend', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lessor-'));
    dirs.push(dir);
    const be = await Backend.open(dir);
    const first = setup();
    const b = new WriteBatch();
    first.lessor.grant(1n, 30n, b);
    first.lessor.grant(2n, 100n, b);
    first.lessor.grant(3n, 5n, b);
    first.lessor.checkpoint(2n, 40n, b);
    first.lessor.revoke(3n, b);
    await be.commit(b);
    const second = setup();
    await second.lessor.load(be);
    expect(second.lessor.ids()).toEqual([1n, 2n]);
    expect(second.lessor.state(1n)).toEqual({ ttl: 30n, remaining: 0n, keys: [] });
    expect(second.lessor.state(2n)).toEqual({ ttl: 100n, remaining: 40n, keys: [] });
    second.lessor.promote(1000);
    expect(second.lessor.lookup(2n)?.remainingMs).toBe(41_000);
    expect(second.lessor.lookup(1n)?.remainingMs).toBe(31_000);
    await be.close();
  });
});

describe('time heap', () => {
  it('pops in time order and keeps the heap property under random pushes and pops', () => {
    const h = new TimeHeap();
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const model: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (rnd() < 0.6 || model.length === 0) {
        const at = Math.floor(rnd() * 1000);
        h.push({ id: BigInt(i), at });
        model.push(at);
      } else {
        model.sort((x, y) => x - y);
        expect(h.pop()?.at).toBe(model.shift());
      }
      if (i % 500 === 0) h.check();
    }
    h.rebuild((it) => it.at % 2 === 0);
    h.check();
    expect(h.size).toBe(model.filter((x) => x % 2 === 0).length);
  });
});

void EtcdError;

describe('lessor against a model (seeded random operations)', () => {
  it('keeps the replicated state equal to the model, and proposes each revoke neither early nor late', () => {
    let renewals = 0;
    for (let seed = 1; seed <= 30; seed++) {
      let x = seed;
      const rnd = (n: number): number => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return Math.floor(x / 65536) % n; // the high bits: an LCG's low bits cycle fast
      };
      const clock = new ManualClock(0);
      const proposed: { id: bigint; at: number }[] = [];
      const lessor = new Lessor({
        clock,
        minTtl: 2n,
        host: { proposeRevoke: (id) => proposed.push({ id, at: clock.nowMs() }), proposeCheckpoints: () => undefined },
      });
      const model = new Map<bigint, { ttl: bigint; keys: Set<string>; expiry: number }>();
      const owner = new Map<string, bigint>();
      let primary = true;
      lessor.promote(0);
      const extendMs = 500;
      const applyRevoke = (id: bigint): void => {
        const m = model.get(id);
        if (!m) return;
        for (const k of m.keys) {
          lessor.detach(id, Buffer.from(k));
          owner.delete(k);
        }
        lessor.revoke(id, new WriteBatch());
        model.delete(id);
      };
      for (let step = 0; step < 400; step++) {
        const op = rnd(10);
        const id = BigInt(1 + rnd(12));
        if (op === 0) {
          const ttl = BigInt(rnd(12));
          const e = err(() => lessor.grant(id, ttl, new WriteBatch()));
          if (model.has(id)) expect((e as EtcdError).spec).toBe(Errors.LeaseExist);
          else {
            expect(e).toBeNull();
            const eff = ttl < 2n ? 2n : ttl;
            model.set(id, { ttl: eff, keys: new Set(), expiry: primary ? clock.nowMs() + Number(eff) * 1000 : Infinity });
          }
        } else if (op === 1 && model.has(id)) {
          const k = `k${rnd(6)}`;
          const prev = owner.get(k);
          if (prev !== undefined) {
            lessor.detach(prev, Buffer.from(k));
            model.get(prev)?.keys.delete(k);
          }
          lessor.attach(id, Buffer.from(k));
          model.get(id)?.keys.add(k);
          owner.set(k, id);
        } else if (op === 2 && model.has(id) && rnd(3) === 0) {
          applyRevoke(id);
        } else if (op === 3 && primary) {
          const r = lessor.renew(id);
          const m = model.get(id);
          if (!m) expect(r.kind).toBe('not-found');
          else if (m.expiry <= clock.nowMs()) expect(r.kind).toBe('expired');
          else {
            expect(r).toEqual({ kind: 'ok', ttl: m.ttl });
            m.expiry = clock.nowMs() + Number(m.ttl) * 1000;
            renewals++;
          }
        } else if (op === 4 && rnd(20) === 0) {
          if (primary) lessor.demote();
          else {
            lessor.promote(extendMs);
            for (const [lid, m] of model) {
              const rem = lessor.state(lid)?.remaining ?? 0n;
              m.expiry = clock.nowMs() + extendMs + Number(rem > 0n ? rem : m.ttl) * 1000;
            }
          }
          primary = !primary;
          if (!primary) for (const m of model.values()) m.expiry = Infinity;
        } else if (op === 5 && model.has(id)) {
          // a checkpoint as the primary would propose it: never below what truly remains
          const m = model.get(id) as { ttl: bigint; expiry: number };
          const left = Number.isFinite(m.expiry) ? Math.max(0, Math.ceil((m.expiry - clock.nowMs()) / 1000)) : Number(m.ttl);
          lessor.checkpoint(id, BigInt(Math.min(left, Number(m.ttl))), new WriteBatch());
        } else {
          clock.advance(100 * (1 + rnd(5)));
          const before = proposed.length;
          lessor.tick();
          for (const p of proposed.slice(before)) {
            const m = model.get(p.id);
            expect(m).toBeDefined();
            expect(p.at).toBeGreaterThanOrEqual(m?.expiry as number); // never early
            if (rnd(2) === 0) applyRevoke(p.id); // else: lost, proposed again later
          }
        }
        // never late: every lease expired by more than a tick's step has been proposed
        if (primary) {
          for (const [lid, m] of model) {
            if (m.expiry <= clock.nowMs()) expect(proposed.some((p) => p.id === lid && p.at >= m.expiry)).toBe(true);
          }
        }
        lessor.checkInvariants();
        expect(new Set(lessor.ids())).toEqual(new Set(model.keys()));
        for (const [lid, m] of model) {
          const st = lessor.state(lid);
          expect(st?.ttl).toBe(m.ttl);
          expect(new Set(st?.keys.map(String))).toEqual(m.keys);
        }
      }
    }
    expect(renewals).toBeGreaterThan(100);
  });
});

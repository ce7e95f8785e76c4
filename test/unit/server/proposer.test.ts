/**
 * The proposer (src/server/proposer.ts) against a stub core and clock: a proposal made with no
 * leader is held and proposed again once one is elected; one whose waiter already timed out is
 * not; apply's result settles the caller; a deadline past fails with etcd's timeout, or with
 * "timed out due to leader failure" when a leader was elected shortly after the proposal; an
 * oversized or refused request registers no waiter.
 */
import { describe, expect, it } from 'vitest';
import { EtcdError, Errors, type ErrorSpec } from '../../../src/api/errors.js';
import type { Runtime } from '../../../src/base/runtime.js';
import { ErrProposalDropped } from '../../../src/raft/errors.js';
import { decodeInternal, RequestKind } from '../../../src/server/internal-request.js';
import { Proposer } from '../../../src/server/proposer.js';

const electionTimeoutMs = 1000;

function setup(opts: { leader?: boolean; serving?: boolean; maxRequestBytes?: number } = {}) {
  let now = 1_000_000;
  let leader = opts.leader ?? false;
  const proposed: bigint[] = [];
  const queued: (() => void)[] = [];
  const p = new Proposer({
    rt: { now: () => now } as unknown as Runtime,
    memberId: 0x1234n,
    electionTimeoutMs,
    maxRequestBytes: opts.maxRequestBytes ?? 1024,
    input: (fn) => queued.push(fn),
    proposeToCore: (data) => {
      if (!leader) throw new ErrProposalDropped('no leader');
      proposed.push(decodeInternal(data).id);
    },
    checkServing: () => {
      if (opts.serving === false) throw new EtcdError(Errors.Stopped);
    },
  });
  return {
    p,
    proposed,
    /** Runs what was given to the loop's input, as the loop would. */
    drain: () => {
      while (queued.length > 0) (queued.shift() as () => void)();
    },
    advance: (ms: number) => (now += ms),
    now: () => now,
    elect: () => {
      leader = true;
      p.onLeaderElected();
    },
  };
}

const put = (id: bigint) => ({ kind: RequestKind.Put, id, req: { key: Buffer.from('k'), value: Buffer.from('v'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false } }) as const;
const specOf = (p: Promise<unknown>): Promise<ErrorSpec | unknown> => p.then((v) => v, (e: unknown) => (e instanceof EtcdError ? e.spec : e));

describe('proposer', () => {
  it('holds a proposal made with no leader, proposes it again once one is elected, and settles it with the apply result', async () => {
    const s = setup();
    const res = specOf(s.p.propose(put));
    s.drain();
    expect(s.proposed).toEqual([]);
    expect(s.p.waits.size).toBe(1);
    s.elect();
    s.drain();
    expect(s.proposed.length).toBe(1);
    s.p.trigger(s.proposed[0] as bigint, { ok: true, value: 'done' });
    expect(await res).toBe('done');
    expect(s.p.waits.size).toBe(0);
  });

  it('does not propose again a held request whose waiter already timed out', async () => {
    const s = setup();
    const res = specOf(s.p.propose(put));
    s.drain();
    s.advance(s.p.requestTimeoutMs + 1);
    s.p.expire(s.now());
    expect(await res).toBe(Errors.Timeout);
    s.elect();
    s.drain();
    expect(s.proposed).toEqual([]);
  });

  it('fails a proposal past its deadline with "timed out", or "timed out due to leader failure" when a leader was elected just after it', async () => {
    const s = setup({ leader: true });
    const plain = specOf(s.p.propose(put));
    s.drain();
    s.advance(s.p.requestTimeoutMs + 1);
    s.p.expire(s.now());
    expect(await plain).toBe(Errors.Timeout);

    const early = specOf(s.p.propose(put));
    s.drain();
    s.advance(electionTimeoutMs); // a new leader is elected one election timeout after the proposal
    s.p.onLeaderElected();
    s.drain();
    s.advance(s.p.requestTimeoutMs);
    s.p.expire(s.now());
    expect(await early).toBe(Errors.TimeoutDueToLeaderFail);
    expect(s.p.waits.failed).toBe(2);
  });

  it('registers no waiter for a request that is too large or made while the member is not serving', async () => {
    const big = setup({ leader: true, maxRequestBytes: 10 });
    expect(await specOf(big.p.propose(put))).toBe(Errors.RequestTooLarge);
    expect(big.p.waits.size).toBe(0);
    const stopped = setup({ leader: true, serving: false });
    expect(await specOf(stopped.p.propose(put))).toBe(Errors.Stopped);
    expect(stopped.p.waits.size).toBe(0);
  });

  it('fails every waiter on failAll', async () => {
    const s = setup({ leader: true });
    const a = specOf(s.p.propose(put));
    const b = specOf(s.p.propose(put));
    s.drain();
    s.p.failAll(new EtcdError(Errors.Stopped));
    expect([await a, await b]).toEqual([Errors.Stopped, Errors.Stopped]);
    expect(s.p.waits.size).toBe(0);
  });
});

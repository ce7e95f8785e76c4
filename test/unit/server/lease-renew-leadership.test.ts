/**
 * A keepalive that reached a leader which was paused (or cut off) and then deposed was renewed
 * in that member's own lessor and answered "alive" — while the real leader's lessor, which never
 * saw the renewal, revoked the lease before the TTL the client was promised had run (whole-member
 * simulator, seed 56386: the call waited in the paused old leader and was answered as it resumed,
 * before it learned of the new term). As etcd's ensureLeadership (3.5.8 / 3.4.25), a leader
 * renews only after a quorum confirms its leadership; otherwise the renewal goes to the leader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestLogger } from '../../../src/base/logger.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';
import { encodeI64s } from '../../../src/server/lease-forward.js';
import { LeaseServer } from '../../../src/server/lease-server.js';

const dirs: string[] = [];
const servers: LeaseServer[] = [];
const backends: Backend[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.stop();
  for (const b of backends.splice(0)) await b.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(opts: { confirmed: boolean }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lease-renew-'));
  dirs.push(dir);
  const be = await Backend.open(dir);
  backends.push(be);
  const leases = await LeaseServer.open(be, { electionTimeoutMs: 1000, heartbeatIntervalMs: 100, requestTimeoutMs: 2000, logger: createTestLogger('debug').logger });
  servers.push(leases);
  const state = { leader: true, confirmCalls: 0, forwarded: [] as string[] };
  leases.bind({
    isLeader: () => state.leader,
    propose: () => Promise.reject(new Error('no proposals here')),
    nextId: () => 1n,
    revision: () => 1n,
    confirmLeadership: async () => {
      state.confirmCalls++;
      // Asking the quorum is what shows a deposed leader that it is one: it steps down.
      if (!opts.confirmed) state.leader = false;
      return opts.confirmed;
    },
    forwardToLeader: async (kind) => {
      state.forwarded.push(kind);
      return encodeI64s([7n]); // the real leader's answer
    },
  });
  leases.lessor.grant(0x10n, 10n, new WriteBatch());
  leases.onTermStartApplied(); // primary, as the leader it believed it was
  return { leases, state };
}

describe('LeaseRenew on a member that believes it leads', () => {
  it('renews in its own lessor only once a quorum confirmed its leadership', async () => {
    const { leases, state } = await setup({ confirmed: true });
    expect(await leases.renew(0x10n)).toBe(10n);
    expect(state.confirmCalls).toBe(1);
    expect(state.forwarded).toEqual([]);
  });

  it('a deposed leader does not answer from its own lessor: the renewal goes to the real leader', async () => {
    const { leases, state } = await setup({ confirmed: false });
    expect(await leases.renew(0x10n)).toBe(7n);
    expect(state.confirmCalls).toBe(1);
    expect(state.forwarded).toHaveLength(1);
  });
});

/**
 * Issue 14, first defect: a member that is not the leader receives a proposal or a ReadIndex
 * request from a peer that took it for the leader (a former leader, back from a pause or a
 * partition). It relays the message to the real leader with the first sender's `from` kept, as
 * etcd's raft does. Before the fix the transport asserted that every message was the member's
 * own and the member's raft loop died on it. These members run over the in-memory transport of
 * src/peer, which makes the same checks as the gRPC one.
 *
 * Second defect: a member whose loop fails stops serving and tells its owner (onFatal), once,
 * with the reason; bin/etcdts exits there (test/integration/fatal-exit.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RangeRequest } from '../../../src/api/kv-types.js';
import { createMemoryHub, type MemoryHub } from '../../../src/peer/memory-transport.js';
import { EntryType, message, MessageType } from '../../../src/raft/types.js';
import { EtcdServer, type ServerOptions } from '../../../src/server/etcd-server.js';
import { encodeInternal, RequestKind } from '../../../src/server/internal-request.js';
import { inprocIds as ids, inprocOptions } from '../../helpers/inproc-cluster.js';
import { MemHub } from '../../helpers/mem-hub.js';

const enc = (s: string): Buffer => Buffer.from(s);

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let dirs: string[] = [];
let servers: EtcdServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  servers = [];
  dirs = [];
});

function rangeReq(key: string): RangeRequest {
  return { key: enc(key), range_end: Buffer.alloc(0), limit: 0n, revision: 0n, sort_order: 0, sort_target: 0, serializable: true, keys_only: false, count_only: false, min_mod_revision: 0n, max_mod_revision: 0n, min_create_revision: 0n, max_create_revision: 0n };
}

async function cluster(fatals: unknown[][]): Promise<{ hub: MemoryHub; ms: EtcdServer[] }> {
  const hub = createMemoryHub();
  const dir = mkdtempSync(path.join(tmpdir(), 'etcdts-relay-'));
  dirs.push(dir);
  const opts = (i: number): ServerOptions => {
    const base = inprocOptions(new MemHub(), dir, i);
    (fatals[i] = []).length = 0;
    return {
      ...base,
      onFatal: (e) => fatals[i]?.push(e),
      transport: ({ memberId, clusterId, handler }) =>
        hub.transport({ memberId, clusterId, handler, logger: base.logger, listenPeerUrls: base.members.find((m) => m.id === memberId)?.peerURLs ?? [] }),
      listenPeerUrls: undefined,
    };
  };
  const ms = await Promise.all([0, 1, 2].map((i) => EtcdServer.start(opts(i))));
  servers.push(...ms);
  await until(() => ms.some((m) => m.isLeader()) && ms.every((m) => m.leader() !== 0n));
  return { hub, ms };
}

describe('a follower relays a peer\'s proposal and ReadIndex to the leader (issue 14)', () => {
  it('commits the relayed proposal on every member and keeps the relaying member serving', async () => {
    const fatals: unknown[][] = [];
    const { ms } = await cluster(fatals);
    const leader = ms.find((m) => m.isLeader()) as EtcdServer;
    const [f, g] = ms.filter((m) => m !== leader) as [EtcdServer, EtcdServer];
    // g sends f a proposal as if f were the leader (g's view before it learnt of the election).
    const data = encodeInternal({ kind: RequestKind.Put, id: 0x77n, req: { key: enc('relayed'), value: enc('yes'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false } });
    g.transport?.send([message({ type: MessageType.Prop, from: g.memberId, to: f.memberId, entries: [{ term: 0n, index: 0n, type: EntryType.Normal, data }] })]);
    // And a ReadIndex request; the leader answers it to g directly.
    g.transport?.send([message({ type: MessageType.ReadIndex, from: g.memberId, to: f.memberId, entries: [{ term: 0n, index: 0n, type: EntryType.Normal, data: enc('ctx-of-g') }] })]);
    for (const m of ms) await until(async () => (await m.range(rangeReq('relayed'))).kvs.length === 1);
    // f still serves writes and linearizable reads.
    await f.put({ key: enc('after'), value: enc('1'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });
    expect((await f.range({ ...rangeReq('after'), serializable: false })).kvs.length).toBe(1);
    expect(fatals.map((x) => x.length)).toEqual([0, 0, 0]);
    expect(ids).toContain(f.memberId);
  });

  it('a member whose loop fails tells its owner once, with the reason, and stops serving', async () => {
    const fatals: unknown[][] = [];
    const { ms } = await cluster(fatals);
    const f = ms.find((m) => !m.isLeader()) as EtcdServer;
    const i = ms.indexOf(f);
    // A message whose handling throws inside the core stands for any bug in the loop: the
    // member must not go on half-dead. (A Raft message from ourselves is a programmer error.)
    (f as unknown as { node: { input(fn: () => void): void } }).node.input(() => {
      throw new Error('injected loop failure');
    });
    await until(() => (fatals[i]?.length ?? 0) > 0);
    expect(String(fatals[i]?.[0])).toMatch(/injected loop failure/);
    await expect(f.range(rangeReq('x'))).rejects.toThrow(/server stopped/);
    expect(fatals[i]?.length).toBe(1);
  });
});

/**
 * Watch on a real 3-member etcdts cluster: watchers on every member (through the small client's
 * watch sessions, which resume on the next endpoint with start_revision = last + 1 when a
 * stream breaks) while a write load runs; the leader is killed with SIGKILL mid-load. Every
 * watcher — those on the followers and those that were on the dead leader and resumed
 * elsewhere — must end with exactly the history a fresh catch-up watch from revision 1 on a
 * survivor gives: nothing missed, nothing twice, in revision order; and that history must hold
 * every acknowledged write.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../src/api/kv-types.js';
import { EtcdClient } from '../../src/client/client.js';
import type { WatchSession } from '../../src/client/watch.js';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { killAll, waitFor } from '../helpers/procs.js';
import { TestKv } from '../helpers/kv-client.js';

const timing = ['--heartbeat-interval', '100', '--election-timeout', '1000'];

let cluster: Cluster | null = null;
const clients: EtcdClient[] = [];
const sessions: WatchSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  for (const c of clients.splice(0)) c.close();
  await cluster?.stop();
  cluster = null;
});
afterAll(() => killAll());

function writeLoad(endpoints: string[], clientsN: number, acked: Map<string, bigint>, stop: { v: boolean }): Promise<void> {
  return Promise.all(
    Array.from({ length: clientsN }, async (_, c) => {
      const kv = new TestKv(endpoints[c % endpoints.length] as string);
      for (let i = 0; !stop.v; i++) {
        const key = `load/${c}/${i % 20}`;
        try {
          const r = await kv.put(key, `v${i}`);
          acked.set(`${key}@${r.header.revision}`, BigInt(r.header.revision));
        } catch {
          await new Promise((r) => setTimeout(r, 50)); // leader change: go on
        }
      }
      kv.close();
    }),
  ).then(() => undefined);
}

const evKey = (e: Event): string => `${e.type}:${e.kv.key.toString()}@${e.kv.mod_revision}:${e.kv.value.toString()}`;

interface Watching {
  on: number;
  events: Event[];
}

async function watchFrom(endpoints: string[], startRevision: bigint, into: Event[]): Promise<void> {
  const client = new EtcdClient({ endpoints });
  clients.push(client);
  const session = await client.watchSession();
  sessions.push(session);
  session.watch({ key: Buffer.from('load/'), rangeEnd: Buffer.from('load0'), startRevision }, (r) => into.push(...r.events));
}

describe('watch on a 3-member etcdts cluster', () => {
  it('kill -9 of the leader under a write load: watchers on every member, resumed elsewhere at last+1, see the same history once', async () => {
    cluster = await startCluster('etcdts', { size: 3, args: timing });
    const c = cluster;
    const lead = await c.leader();
    const all = [0, 1, 2];
    const watching: Watching[] = [];
    for (const i of all) {
      // This member first, then the others: where the session goes when its stream breaks.
      const order = [i, ...all.filter((k) => k !== i)].map((k) => c.endpoint(k));
      for (let n = 0; n < 3; n++) {
        const w: Watching = { on: i, events: [] };
        watching.push(w);
        await watchFrom(order, 0n, w.events);
      }
    }
    // The watchers start at "now"; writes start after every watcher is established.
    await new Promise((r) => setTimeout(r, 500));
    const kvStart = new TestKv(c.endpoint(lead));
    const startRev = BigInt((await kvStart.range('nothing')).header.revision);
    kvStart.close();

    const acked = new Map<string, bigint>();
    const stop = { v: false };
    const load = writeLoad(all.map((i) => c.endpoint(i)), 8, acked, stop);
    await waitFor('writes before the kill', async () => acked.size > 200, 30_000);
    expect(watching.filter((w) => w.on === lead).every((w) => w.events.length > 0)).toBe(true);
    await c.kill(lead);
    const before = acked.size;
    await waitFor('writes after the kill', async () => acked.size > before + 200, 60_000);
    stop.v = true;
    await load;

    const survivor = all.find((i) => i !== lead) as number;
    const kv = new TestKv(c.endpoint(survivor));
    const finalRev = BigInt((await kv.range('nothing')).header.revision);
    kv.close();
    // The reference: a fresh watch replaying history from MVCC on a survivor.
    const reference: Event[] = [];
    await watchFrom([c.endpoint(survivor)], startRev + 1n, reference);
    await waitFor('reference replayed', async () => reference.length > 0 && (reference[reference.length - 1] as Event).kv.mod_revision >= finalRev, 30_000);
    // Every acknowledged write is in it.
    const refKeys = new Set(reference.map((e) => `${e.kv.key.toString()}@${e.kv.mod_revision}`));
    expect([...acked.keys()].filter((k) => !refKeys.has(k))).toEqual([]);

    const want = reference.map(evKey);
    for (const w of watching) {
      await waitFor(`watcher on member ${w.on} caught up`, async () => w.events.length >= want.length, 30_000);
      await new Promise((r) => setTimeout(r, 200)); // a duplicate would show up now
      expect(w.events.map(evKey), `watcher first on member ${w.on}${w.on === lead ? ' (the killed leader)' : ''}`).toEqual(want);
    }
  }, 180_000);
});

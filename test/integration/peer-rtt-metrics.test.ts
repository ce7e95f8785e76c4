/**
 * etcd_network_peer_round_trip_time_seconds: in a three-member cluster each member exposes, 5 s
 * after it added its peers, one histogram per peer labelled To=<peer id in hex>, with etcd's 16
 * buckets from 0.1 ms doubling; the same series as a real etcd cluster exposes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { memberStatus, startCluster } from '../helpers/cluster.js';
import { hasEtcd, killAll, waitFor } from '../helpers/procs.js';

const fast = ['--heartbeat-interval', '50', '--election-timeout', '500'];
const family = 'etcd_network_peer_round_trip_time_seconds';

async function scrape(endpoint: string): Promise<string> {
  const r = await fetch(`http://${endpoint}/metrics`);
  return r.text();
}

/** The series of the family: name{labels}, values dropped, le and To kept. */
function series(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(family)).map((l) => l.replace(/ [^ ]+$/, ''));
}

describe('peer round-trip metrics', () => {
  afterAll(() => killAll());

  it.each([['etcdts'], ...(hasEtcd ? [['etcd']] : [])] as ['etcdts' | 'etcd'][])('%s: one histogram per peer, labelled To, with etcd\'s buckets', async (kind) => {
    const c = await startCluster(kind, { size: 3, args: fast });
    await c.leader();
    const ids = await Promise.all([0, 1, 2].map(async (i) => BigInt((await memberStatus(c.endpoint(i)))?.header.member_id ?? '0').toString(16)));
    const peers = [ids[1], ids[2]] as string[];
    let text = '';
    await waitFor('a round trip observed for both peers of member 0', async () => {
      text = await scrape(c.endpoint(0));
      return peers.every((to) => new RegExp(`^${family}_count\\{To="${to}"\\} [1-9]`, 'm').test(text));
    }, 20_000);
    const s = series(text);
    for (const to of peers) {
      const buckets = s.filter((l) => l.startsWith(`${family}_bucket{`) && l.includes(`To="${to}"`));
      expect(buckets.length, to).toBe(17);
      expect(buckets.some((l) => l.includes('le="0.0001"'))).toBe(true);
      expect(buckets.some((l) => l.includes('le="3.2768"'))).toBe(true);
      expect(buckets.some((l) => l.includes('le="+Inf"'))).toBe(true);
      expect(s).toContain(`${family}_sum{To="${to}"}`);
    }
    // Only peers: no series for the member itself.
    expect(s.some((l) => l.includes(`To="${ids[0]}"`))).toBe(false);
    // A loopback round trip is well under a second.
    const sum = Number(new RegExp(`^${family}_sum\\{To="${peers[0]}"\\} (\\S+)`, 'm').exec(text)?.[1]);
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum).toBeLessThan(1);
    await c.stop();
  }, 60_000);
});

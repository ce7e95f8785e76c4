/**
 * The fault harness's network: one network namespace per member and a hub namespace with a
 * bridge, all created by the harness and deleted when it ends. The harness itself (clients,
 * nemesis, checks) runs inside the hub; member i is 10.214.0.i on the bridge, the hub
 * 10.214.0.254. Nothing touches the host's own network: every address lives in a namespace
 * of ours.
 *
 * A link is cut one way, from member i to member j, by pinning j's address in i's neighbour
 * table to a MAC nobody has: i's packets to j leave and vanish on the bridge (a silent drop, as
 * a real partition, not a connection refused), while j's packets to i still arrive. Both ways
 * is both entries. Healing deletes the entry and ARP finds the real neighbour again.
 */
import { spawnSync } from 'node:child_process';

export const subnetPrefix = '10.214.0.';
export const hubAddress = `${subnetPrefix}254`;

export function memberAddress(i: number): string {
  return `${subnetPrefix}${i + 1}`;
}

function ip(args: string[], allowFail = false): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`ip ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Whether this process may create namespaces (root, iproute2 present, netns supported). */
export function netnsUsable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `ehprobe${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return false;
  spawnSync('ip', ['netns', 'del', probe]);
  return true;
}

export interface Netns {
  id: string;
  hub: string;
  member(i: number): string;
  size: number;
}

export function netnsNames(id: string, size: number): Netns {
  return { id, hub: `${id}-hub`, member: (i) => `${id}-m${i + 1}`, size };
}

export function createNetns(n: Netns): void {
  ip(['netns', 'add', n.hub]);
  ip(['-n', n.hub, 'link', 'set', 'lo', 'up']);
  ip(['-n', n.hub, 'link', 'add', 'br0', 'type', 'bridge']);
  ip(['-n', n.hub, 'addr', 'add', `${hubAddress}/24`, 'dev', 'br0']);
  ip(['-n', n.hub, 'link', 'set', 'br0', 'up']);
  for (let i = 0; i < n.size; i++) {
    const ns = n.member(i);
    ip(['netns', 'add', ns]);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', n.hub, 'link', 'add', `v${i + 1}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    ip(['-n', n.hub, 'link', 'set', `v${i + 1}`, 'master', 'br0']);
    ip(['-n', n.hub, 'link', 'set', `v${i + 1}`, 'up']);
    ip(['-n', ns, 'addr', 'add', `${memberAddress(i)}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
}

/** Pids still inside our namespaces (only processes this harness started can be there). */
export function netnsPids(n: Netns): number[] {
  const out: number[] = [];
  for (const ns of [n.hub, ...Array.from({ length: n.size }, (_, i) => n.member(i))]) {
    for (const l of ip(['netns', 'pids', ns], true).split('\n')) if (/^\d+$/.test(l.trim())) out.push(Number(l.trim()));
  }
  return out;
}

export function deleteNetns(n: Netns): void {
  for (let i = 0; i < n.size; i++) ip(['netns', 'del', n.member(i)], true);
  ip(['netns', 'del', n.hub], true);
}

/** Leftover namespaces of earlier runs whose harness is gone (names carry the outer pid). */
export function staleNetns(prefix: string): string[] {
  const out: string[] = [];
  for (const l of ip(['netns', 'list'], true).split('\n')) {
    const name = l.split(' ')[0] ?? '';
    const m = new RegExp(`^${prefix}(\\d+)-`).exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) out.push(name);
  }
  return out;
}

const bogusMac = (j: number): string => `02:00:00:00:de:${(j + 1).toString(16).padStart(2, '0')}`;

/** Cuts member i's packets to member j (one way). */
export function cutLink(n: Netns, from: number, to: number): void {
  ip(['-n', n.member(from), 'neigh', 'replace', memberAddress(to), 'lladdr', bogusMac(to), 'dev', 'eth0', 'nud', 'permanent']);
}

export function healLink(n: Netns, from: number, to: number): void {
  ip(['-n', n.member(from), 'neigh', 'del', memberAddress(to), 'dev', 'eth0'], true);
}

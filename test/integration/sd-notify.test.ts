/**
 * systemd readiness with real processes: a member started with NOTIFY_SOCKET sends READY=1 only
 * once it has joined its cluster (a member of a three-member cluster started alone stays silent
 * until a quorum is up), exactly once, to a path or to an abstract socket; without a listener it
 * logs why and keeps serving. The same run against a real etcd shows etcd behaving alike.
 */
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clusterPorts } from '../helpers/cluster.js';
import { hasPython3, receiveDatagrams, type DgramReceiver } from '../helpers/dgram-receiver.js';
import { hasEtcd, inCI, killAll, startMember, tempDir, waitFor, type MemberProc } from '../helpers/procs.js';

if (!hasPython3 && inCI) throw new Error('the sd_notify tests need python3 under CI');

const fast = ['--heartbeat-interval', '50', '--election-timeout', '500'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasPython3)('NOTIFY_SOCKET: READY=1 once the member joined its cluster', () => {
  let rx: DgramReceiver | undefined;
  afterEach(() => rx?.close());
  afterAll(() => killAll());

  it.each([['etcdts', '/path'], ['etcdts', '@abstract'], ...(hasEtcd ? [['etcd', '/path']] : [])] as ['etcdts' | 'etcd', string][])(
    '%s, socket %s: silent while the cluster has no quorum, READY=1 once it joined',
    async (kind, where) => {
      const dir = tempDir(`${kind}-notify-`);
      const address = where === '@abstract' ? `@etcdts-notify-${process.pid}-${Date.now()}` : path.join(dir, 'notify.sock');
      rx = await receiveDatagrams(address);
      const ports = await clusterPorts(3);
      const names = ['n0', 'n1', 'n2'];
      const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i]?.peer}`).join(',');
      const member = (i: number, env: Record<string, string>): Promise<MemberProc> =>
        startMember({
          kind,
          name: names[i],
          dataDir: path.join(dir, `${names[i]}.etcd`),
          clientPort: ports[i]?.client,
          peerPort: ports[i]?.peer,
          initialCluster,
          args: ['--initial-cluster-token', `notify-${kind}`, ...fast],
          env,
          waitHealthy: false,
        });
      const first = await member(0, { NOTIFY_SOCKET: address });
      // Alone, it starts and listens but cannot join: no readiness yet.
      await sleep(2500);
      expect(rx.received).toEqual([]);
      const others = await Promise.all([member(1, { NOTIFY_SOCKET: '' }), member(2, { NOTIFY_SOCKET: '' })]);
      await waitFor('READY=1 from the first member', async () => (rx?.received.length ?? 0) > 0, 20_000);
      await sleep(500);
      expect(rx.received).toEqual(['READY=1']);
      if (kind === 'etcdts') expect(first.logs.join('')).toContain('successfully notified init daemon');
      for (const m of [first, ...others]) await m.kill();
    },
  );

  it('etcdts: a NOTIFY_SOCKET nobody listens on is logged, and the member serves all the same', async () => {
    const missing = path.join(tempDir('etcdts-notify-'), 'nobody.sock');
    const m = await startMember({ kind: 'etcdts', env: { NOTIFY_SOCKET: missing } });
    await waitFor('the failure to be logged', async () => m.logs.join('').includes('failed to notify systemd for readiness'), 10_000);
    expect(m.logs.join('')).toContain(`dial unixgram ${missing}: connect: no such file or directory`);
    await m.kill();
  });
});

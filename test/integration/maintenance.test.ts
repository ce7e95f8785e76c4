/**
 * Maintenance on a real etcdts process, driven by ctl:
 * - a snapshot saved under a concurrent write load restores (ctl snapshot restore) into a new
 *   data dir; etcdts started on it serves every key exactly as the source had it at the
 *   snapshot's revision, and that revision;
 * - quota: writes past --quota-backend-bytes raise NOSPACE and are refused with etcd's error;
 *   reads and deletes work; compact + defrag + disarm make writes work again; an alarm survives
 *   a restart and makes /health unhealthy.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../../src/client/client.js';
import { ClientError } from '../../src/client/errors.js';
import { ctl, freePort, httpGet, killAll, run, ctlBin, startMember, tempDir, waitFor } from '../helpers/procs.js';

afterAll(() => killAll());

const noSpace = 'etcdserver: mvcc: database space exceeded';

describe('snapshot save / restore', () => {
  it('a snapshot saved under load restores every key and the same revision', async () => {
    const src = await startMember({ kind: 'etcdts' });
    const c = new EtcdClient({ endpoints: [src.endpoint] });
    let stop = false;
    let written = 0;
    const load = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          await c.put({ key: Buffer.from(`load/${w}/${i % 50}`), value: Buffer.from(`v${i}`) });
          if (i % 10 === 9) await c.deleteRange({ key: Buffer.from(`load/${w}/${(i * 7) % 50}`) });
          written++;
        }
      }),
    );
    await waitFor('writes under way', async () => written > 300, 60_000);
    const dir = tempDir();
    const file = path.join(dir, 'snap.db');
    const saved = await ctl(src.endpoint, ['snapshot', 'save', file]);
    expect(saved.stderr).toBe('');
    expect(saved.stdout).toBe(`Snapshot saved at ${file}\n`);
    await waitFor('more writes after the snapshot', async () => written > 600, 60_000);
    stop = true;
    await load;

    const status = await run(process.execPath, [ctlBin, 'snapshot', 'status', file, '-w', 'json']);
    const st = JSON.parse(status.stdout) as { revision: number; totalKey: number; totalSize: number };
    expect(st.revision).toBeGreaterThan(1);

    const peerPort = await freePort();
    const peer = `http://127.0.0.1:${peerPort}`;
    const dataDir = path.join(dir, 'restored.etcd');
    const restored = await run(process.execPath, [
      ctlBin, 'snapshot', 'restore', file, '--name', 'r1', '--data-dir', dataDir,
      '--initial-cluster', `r1=${peer}`, '--initial-advertise-peer-urls', peer, '--initial-cluster-token', 'restored',
    ]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toBe('');
    const again = await run(process.execPath, [ctlBin, 'snapshot', 'restore', file, '--name', 'r1', '--data-dir', dataDir, '--initial-cluster', `r1=${peer}`, '--initial-advertise-peer-urls', peer]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 1, stderr: `Error: data-dir ${JSON.stringify(dataDir)} exists\n` });

    const dst = await startMember({ kind: 'etcdts', name: 'r1', dataDir, peerPort });
    const d = new EtcdClient({ endpoints: [dst.endpoint] });
    const all = { key: Buffer.from([0]), range_end: Buffer.from([0]) };
    const got = await d.range(all);
    expect(got.resp.header.revision).toBe(BigInt(st.revision));
    const want = await c.range({ ...all, revision: BigInt(st.revision) });
    expect(got.resp.kvs.length).toBeGreaterThan(0);
    expect(got.resp.kvs).toEqual(want.resp.kvs);
    // A new cluster: the restore's ids, and it takes writes at the next revision.
    const members = await d.memberList();
    expect(members.resp.members.map((m) => [m.name, m.peerURLs])).toEqual([['r1', [peer]]]);
    expect(members.resp.header.cluster_id).not.toBe((await c.memberList()).resp.header.cluster_id);
    const p = await d.put({ key: Buffer.from('after'), value: Buffer.from('restore') });
    expect(p.resp.header.revision).toBe(BigInt(st.revision) + 1n);
    c.close();
    d.close();
  });
});

describe('quota and alarms', () => {
  it('NOSPACE past the quota; reads and deletes work; compact + defrag + disarm restore writes; the alarm survives a restart', async () => {
    const m = await startMember({ kind: 'etcdts', args: ['--quota-backend-bytes', '400000'] });
    const c = new EtcdClient({ endpoints: [m.endpoint] });
    let refused: ClientError | null = null;
    let i = 0;
    for (; i < 200 && !refused; i++) {
      try {
        await c.put({ key: Buffer.from(`big/${i % 10}`), value: randomBytes(20_000) });
      } catch (e) {
        if (!(e instanceof ClientError)) throw e;
        refused = e;
      }
    }
    expect(refused?.details).toBe(noSpace);
    expect(refused?.code).toBe(8);
    const memberId = (await c.status()).resp.header.member_id;
    const list = await ctl(m.endpoint, ['alarm', 'list']);
    expect(list.stdout).toBe(`memberID:${memberId} alarm:NOSPACE \n`);
    const status = await c.status();
    expect(status.resp.errors).toEqual([`memberID:${memberId} alarm:NOSPACE `]);
    const health = await httpGet(`${m.clientUrl}/health`);
    expect(health).toEqual({ status: 503, body: '{"health":"false","reason":"ALARM NOSPACE"}' });
    // Only reads, deletes, compaction, defrag and alarm changes work now.
    const put = await ctl(m.endpoint, ['put', 'small', 'x']);
    expect(put.stderr).toContain(`Error: ${noSpace}\n`);
    const txn = await ctl(m.endpoint, ['txn'], '\nput small x\n\n\n');
    expect(txn.stderr).toContain(`Error: ${noSpace}\n`);
    expect((await ctl(m.endpoint, ['get', 'big/1', '--keys-only'])).stdout).toBe('big/1\n\n');
    expect((await ctl(m.endpoint, ['del', 'big/9'])).stdout).toBe('1\n');

    // The alarm is replicated state: it is still there after a restart.
    await m.kill('SIGTERM');
    const m2 = await startMember({ kind: 'etcdts', name: m.name, dataDir: m.dataDir, args: ['--quota-backend-bytes', '400000'], healthPath: '/health?exclude=NOSPACE' });
    const c2 = new EtcdClient({ endpoints: [m2.endpoint] });
    expect((await ctl(m2.endpoint, ['alarm', 'list'])).stdout).toBe(`memberID:${memberId} alarm:NOSPACE \n`);

    const rev = (await c2.range({ key: Buffer.from('x') })).resp.header.revision;
    expect((await ctl(m2.endpoint, ['compaction', String(rev), '--physical'])).stdout).toBe(`compacted revision ${rev}\n`);
    expect((await ctl(m2.endpoint, ['defrag'])).stdout).toBe(`Finished defragmenting etcd member[${m2.endpoint}]\n`);
    // Disarmed but still over quota would re-raise it: the space really came back.
    expect((await ctl(m2.endpoint, ['alarm', 'disarm'])).stdout).toBe(`memberID:${memberId} alarm:NOSPACE \n`);
    expect((await ctl(m2.endpoint, ['alarm', 'list'])).stdout).toBe('');
    const ok = await ctl(m2.endpoint, ['put', 'small', 'x']);
    expect({ out: ok.stdout, err: ok.stderr }).toEqual({ out: 'OK\n', err: '' });
    expect((await httpGet(`${m2.clientUrl}/health`)).status).toBe(200);
    c.close();
    c2.close();
  });
});

describe('endpoint hashkv', () => {
  it('prints the hash, and etcd errors for compacted and future revisions', async () => {
    const m = await startMember({ kind: 'etcdts' });
    for (let i = 0; i < 5; i++) await ctl(m.endpoint, ['put', `k${i}`, `v${i}`]);
    const h = await ctl(m.endpoint, ['endpoint', 'hashkv', '-w', 'json']);
    const parsed = JSON.parse(h.stdout) as [{ Endpoint: string; HashKV: { header: { revision: number }; hash: number; compact_revision: number } }];
    expect(parsed[0].Endpoint).toBe(m.endpoint);
    expect(parsed[0].HashKV.header.revision).toBe(6);
    expect(parsed[0].HashKV.compact_revision).toBe(-1);
    const again = await ctl(m.endpoint, ['endpoint', 'hashkv']);
    expect(again.stdout).toBe(`${m.endpoint}, ${parsed[0].HashKV.hash}\n`);
    await ctl(m.endpoint, ['put', 'k9', 'changed']);
    expect((await ctl(m.endpoint, ['endpoint', 'hashkv'])).stdout).not.toBe(again.stdout);
    // At the old revision the hash is the old one.
    expect((await ctl(m.endpoint, ['endpoint', 'hashkv', '--rev', '6'])).stdout).toBe(again.stdout);
    const future = await ctl(m.endpoint, ['endpoint', 'hashkv', '--rev', '99']);
    expect(future.code).toBe(1);
    expect(future.stderr).toContain(`Failed to get the hash of endpoint ${m.endpoint} (etcdserver: mvcc: required revision is a future revision)\n`);
    expect(future.stderr).toMatch(/Error: etcdserver: mvcc: required revision is a future revision\n$/);
  });
});

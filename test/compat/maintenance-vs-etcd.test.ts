/**
 * Maintenance compatibility with etcd 3.4.23, with the real etcdctl:
 * - the same etcdctl commands against etcdts and against a real etcd (both started with the
 *   same member/cluster ids): endpoint health/status -w table (shape and columns), defrag,
 *   snapshot save, alarm list/disarm and the NOSPACE flow give the same output, masked where
 *   the numbers legitimately differ (sizes, terms, indexes, version, timings, ports);
 * - snapshot files cross over: etcdctl reads etcdts' snapshot (status) and restores it into a
 *   data dir a real etcd starts from with every key and the revision; ctl's snapshot status
 *   prints what etcdctl prints for both kinds of file; ctl restores a real etcd's snapshot
 *   into a data dir etcdts starts from.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ctlBin,
  freePort,
  hasEtcd,
  hasEtcdctl,
  inCI,
  killAll,
  run,
  startMember,
  tempDir,
  type MemberProc,
  type RunResult,
} from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI (apt-get install etcd-server etcd-client)');

const quota = ['--quota-backend-bytes', '400000'];

function etcdctl(m: MemberProc, args: string[], input?: string): Promise<RunResult> {
  return run('etcdctl', [`--endpoints=${m.endpoint}`, ...args], { input });
}

function ctl(args: string[]): Promise<RunResult> {
  return run(process.execPath, [ctlBin, ...args]);
}

/** ctl and etcdctl against the same member: the same stdout, stderr and exit code. */
async function sameAsEtcdctl(m: MemberProc, args: string[], opts: { stdoutOnly?: boolean } = {}): Promise<void> {
  const a = mask(await etcdctl(m, args), m);
  const b = mask(await ctl([`--endpoints=${m.endpoint}`, ...args]), m);
  if (opts.stdoutOnly) expect({ stdout: b.stdout, code: b.code }, `ctl ${args.join(' ')}`).toEqual({ stdout: a.stdout, code: a.code });
  else expect(b, `ctl ${args.join(' ')}`).toEqual(a);
}

function mask(r: RunResult, m: MemberProc): RunResult {
  const clean = (s: string): string =>
    s
      .replaceAll(m.endpoint, '<ep>')
      .replaceAll(m.dataDir, '<dir>')
      .replace(/"ts":"[^"]*"/g, '"ts":<ts>')
      .replace(/client-[0-9a-f-]{36}/g, 'client-<uuid>')
      .replace(/took = [0-9.]+[µnm]?s/g, 'took = <t>')
      .replace(/\| +[0-9.]+[µnm]?s +\|/g, '| <t> |');
  return { stdout: clean(r.stdout), stderr: clean(r.stderr), code: r.code };
}

/** endpoint status table with the cells that differ between servers blanked (size, version, term, indexes). */
function statusShape(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()))
    .map((row, i) => (i === 0 ? row : row.map((c, j) => ([2, 3, 6, 7, 8].includes(j) ? '<x>' : c))));
}

describe.skipIf(missing)('maintenance: etcdctl against etcdts and etcd 3.4.23', () => {
  let ts: MemberProc;
  let etcd: MemberProc;
  const dir = tempDir();

  beforeAll(async () => {
    // Same name, peer URL and token ⇒ same member and cluster ids; the peer port is never dialled.
    const peer = await freePort();
    const same = ['--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `default=http://127.0.0.1:${peer}`];
    ts = await startMember({ kind: 'etcdts', args: [...same, ...quota], peerPort: await freePort() });
    etcd = await startMember({ kind: 'etcd', args: [...same, ...quota], peerPort: await freePort() });
  }, 60_000);
  afterAll(() => killAll());

  it('endpoint health and status tables, defrag, alarm list: same output', async () => {
    for (const args of [['endpoint', 'health'], ['defrag'], ['alarm', 'list'], ['alarm', 'list', '-w', 'json'], ['alarm', 'disarm']]) {
      const a = mask(await etcdctl(ts, args), ts);
      const b = mask(await etcdctl(etcd, args), etcd);
      expect(a, args.join(' ')).toEqual(b);
    }
    const ht = mask(await etcdctl(ts, ['endpoint', 'health', '-w', 'table']), ts);
    const he = mask(await etcdctl(etcd, ['endpoint', 'health', '-w', 'table']), etcd);
    expect(ht.stdout.replace(/-+/g, '-').replace(/ +/g, ' ')).toBe(he.stdout.replace(/-+/g, '-').replace(/ +/g, ' '));
    const st = await etcdctl(ts, ['endpoint', 'status', '-w', 'table']);
    const se = await etcdctl(etcd, ['endpoint', 'status', '-w', 'table']);
    expect(st.code).toBe(0);
    const shapeT = statusShape(mask(st, ts).stdout);
    expect(shapeT).toEqual(statusShape(mask(se, etcd).stdout));
    expect(shapeT[0]).toEqual(['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS']);
    const jt = JSON.parse((await etcdctl(ts, ['endpoint', 'status', '-w', 'json'])).stdout) as [{ Status: Record<string, unknown> }];
    const je = JSON.parse((await etcdctl(etcd, ['endpoint', 'status', '-w', 'json'])).stdout) as [{ Status: Record<string, unknown> }];
    expect(Object.keys(jt[0].Status).sort()).toEqual(Object.keys(je[0].Status).sort());
  }, 60_000);

  it('quota: NOSPACE, refused writes, alarm list/disarm, recovery — same output', async () => {
    const fill = async (m: MemberProc): Promise<RunResult> => {
      for (let i = 0; i < 200; i++) {
        const r = await etcdctl(m, ['put', `big/${i % 10}`, randomBytes(15_000).toString('base64')]);
        if (r.code !== 0) return mask(r, m);
      }
      throw new Error('quota never exceeded');
    };
    expect(await fill(ts)).toEqual(await fill(etcd));
    const steps: [string[], string?][] = [
      [['alarm', 'list']],
      [['alarm', 'list', '-w', 'json']],
      [['put', 'small', 'x']],
      [['txn'], '\nput small x\n\n\n'],
      [['get', 'big/1', '--keys-only']],
      [['del', 'big/9']],
      [['endpoint', 'health']],
    ];
    for (const [args, input] of steps) {
      expect(mask(await etcdctl(ts, args, input), ts), args.join(' ')).toEqual(mask(await etcdctl(etcd, args, input), etcd));
    }
    const st = statusShape(mask(await etcdctl(ts, ['endpoint', 'status', '-w', 'table']), ts).stdout);
    expect(st).toEqual(statusShape(mask(await etcdctl(etcd, ['endpoint', 'status', '-w', 'table']), etcd).stdout));
    expect(st[1]?.[9]).toMatch(/^memberID:\d+$/); // the alarm in ERRORS, wrapped as etcdctl wraps it
    // ctl prints what etcdctl prints for an alarmed member (the real etcd).
    for (const w of ['simple', 'json', 'table', 'fields']) await sameAsEtcdctl(etcd, ['endpoint', 'status', '-w', w]);
    for (const w of ['simple', 'json', 'protobuf', 'table']) await sameAsEtcdctl(etcd, ['alarm', 'list', '-w', w]);
    const simple = await etcdctl(ts, ['endpoint', 'status']);
    expect(simple.stdout).toMatch(/, memberID:\d+ alarm:NOSPACE \n$/);
    const recover = async (m: MemberProc): Promise<RunResult[]> => {
      const del = await etcdctl(m, ['del', 'big/', '--prefix']);
      const rev = JSON.parse((await etcdctl(m, ['get', 'x', '-w', 'json'])).stdout) as { header: { revision: number } };
      const out = [del, await etcdctl(m, ['compaction', String(rev.header.revision), '--physical']), await etcdctl(m, ['defrag']), await etcdctl(m, ['alarm', 'disarm'])];
      out.push(await etcdctl(m, ['alarm', 'list']), await etcdctl(m, ['put', 'small', 'y']));
      // How many writes fit under the quota differs (sizes are estimated differently): not the revision.
      return out.map((r) => mask(r, m)).map((r) => ({ ...r, stdout: r.stdout.replace(/^compacted revision \d+$/m, 'compacted revision <n>') }));
    };
    expect(await recover(ts)).toEqual(await recover(etcd));
  }, 120_000);

  it('snapshot save works with etcdctl; etcdctl restores it and a real etcd serves it; ctl reads and restores etcd snapshots', async () => {
    for (let i = 0; i < 20; i++) {
      await etcdctl(ts, ['put', `snap/${i}`, `v${i}`]);
      await etcdctl(etcd, ['put', `snap/${i}`, `v${i}`]);
    }
    await etcdctl(ts, ['del', 'snap/3']);
    await etcdctl(etcd, ['del', 'snap/3']);
    const fileTs = path.join(dir, 'ts.db');
    const fileEtcd = path.join(dir, 'etcd.db');
    const saveTs = await etcdctl(ts, ['snapshot', 'save', fileTs]);
    const saveEtcd = await etcdctl(etcd, ['snapshot', 'save', fileEtcd]);
    expect(saveTs.stdout).toBe(`Snapshot saved at ${fileTs}\n`);
    expect(saveEtcd.stdout).toBe(`Snapshot saved at ${fileEtcd}\n`);
    expect(saveTs.code).toBe(0);

    // ctl snapshot status prints exactly what etcdctl prints, for both files and every format.
    for (const f of [fileTs, fileEtcd]) {
      for (const w of ['simple', 'json', 'table', 'fields', 'protobuf']) {
        const a = await run('etcdctl', ['snapshot', 'status', f, '-w', w]);
        const b = await ctl(['snapshot', 'status', f, '-w', w]);
        expect(b, `${path.basename(f)} -w ${w}`).toEqual(a);
      }
    }
    const revTs = (JSON.parse((await etcdctl(ts, ['get', 'x', '-w', 'json'])).stdout) as { header: { revision: number } }).header.revision;
    const revEtcd = (JSON.parse((await etcdctl(etcd, ['get', 'x', '-w', 'json'])).stdout) as { header: { revision: number } }).header.revision;

    // etcdctl restores etcdts' snapshot; a real etcd starts on it with every key and the revision.
    const peer = await freePort();
    const peerUrl = `http://127.0.0.1:${peer}`;
    const etcdDir = path.join(dir, 'etcd-restored');
    const r1 = await run('etcdctl', ['snapshot', 'restore', fileTs, '--name', 'x1', '--data-dir', etcdDir, '--initial-cluster', `x1=${peerUrl}`, '--initial-advertise-peer-urls', peerUrl]);
    expect(r1.code).toBe(0);
    const e2 = await startMember({ kind: 'etcd', name: 'x1', dataDir: etcdDir, peerPort: peer }).catch((e: unknown) => {
      throw new Error(`${String(e)}\nrestore: ${r1.stderr}`);
    });
    const fromEtcd = JSON.parse((await etcdctl(e2, ['get', 'snap/', '--prefix', '-w', 'json'])).stdout) as { header: { revision: number }; kvs: unknown[] };
    const original = JSON.parse((await etcdctl(ts, ['get', 'snap/', '--prefix', '-w', 'json'])).stdout) as { header: { revision: number }; kvs: unknown[] };
    expect(fromEtcd.header.revision).toBe(revTs);
    expect(fromEtcd.kvs).toEqual(original.kvs);
    expect(fromEtcd.kvs.length).toBe(19);

    // ctl restores the real etcd's snapshot; etcdts starts on it with every key and the revision.
    const peer2 = await freePort();
    const peerUrl2 = `http://127.0.0.1:${peer2}`;
    const tsDir = path.join(dir, 'ts-restored');
    const r2 = await ctl(['snapshot', 'restore', fileEtcd, '--name', 'y1', '--data-dir', tsDir, '--initial-cluster', `y1=${peerUrl2}`, '--initial-advertise-peer-urls', peerUrl2]);
    expect(r2.code).toBe(0);
    const t2 = await startMember({ kind: 'etcdts', name: 'y1', dataDir: tsDir, peerPort: peer2 });
    const fromTs = JSON.parse((await etcdctl(t2, ['get', 'snap/', '--prefix', '-w', 'json'])).stdout) as { header: { revision: number }; kvs: unknown[] };
    const originalEtcd = JSON.parse((await etcdctl(etcd, ['get', 'snap/', '--prefix', '-w', 'json'])).stdout) as { header: { revision: number }; kvs: unknown[] };
    expect(fromTs.header.revision).toBe(revEtcd);
    expect(fromTs.kvs).toEqual(originalEtcd.kvs);
    // Both restores made a new cluster from the same flags: the same ids as etcd computes.
    const idsEtcd = JSON.parse((await etcdctl(e2, ['member', 'list', '-w', 'json'])).stdout) as { header: { cluster_id: number } };
    expect(idsEtcd.header.cluster_id).toBeGreaterThan(0);
    const r3 = await ctl(['snapshot', 'restore', fileEtcd, '--data-dir', tsDir]);
    expect(r3).toMatchObject({ code: 1, stderr: `Error: data-dir ${JSON.stringify(tsDir)} exists\n` });
  }, 120_000);

  it('ctl hashkv, defrag, alarm and snapshot save print what etcdctl prints', async () => {
    for (const w of ['simple', 'json', 'table', 'fields', 'protobuf']) await sameAsEtcdctl(etcd, ['endpoint', 'hashkv', '-w', w]);
    await sameAsEtcdctl(etcd, ['endpoint', 'hashkv', '--rev', '99999']);
    await sameAsEtcdctl(etcd, ['endpoint', 'hashkv', '--rev', '1']);
    await sameAsEtcdctl(etcd, ['defrag']);
    await sameAsEtcdctl(etcd, ['alarm', 'disarm']);
    await sameAsEtcdctl(etcd, ['alarm', 'list', 'x']);
    await sameAsEtcdctl(etcd, ['snapshot', 'save']);
    const fields = await ctl([`--endpoints=${etcd.endpoint}`, 'alarm', 'list', '-w', 'fields']);
    const fieldsEtcdctl = await etcdctl(etcd, ['alarm', 'list', '-w', 'fields']);
    expect(fields.code).toBe(fieldsEtcdctl.code);
    expect(fields.stderr.split('\n')[0]).toBe(fieldsEtcdctl.stderr.split('\n')[0]);
    const a = path.join(dir, 'a.db');
    const b = path.join(dir, 'b.db');
    const sa = await etcdctl(etcd, ['snapshot', 'save', a]);
    const sb = await ctl([`--endpoints=${etcd.endpoint}`, 'snapshot', 'save', b]);
    expect({ stdout: sb.stdout.replace(b, '<f>'), code: sb.code }).toEqual({ stdout: sa.stdout.replace(a, '<f>'), code: sa.code });
    const multi = await ctl([`--endpoints=${etcd.endpoint},${ts.endpoint}`, 'snapshot', 'save', b]);
    const multiEtcdctl = await run('etcdctl', [`--endpoints=${etcd.endpoint},${ts.endpoint}`, 'snapshot', 'save', b]);
    expect(multi).toEqual(multiEtcdctl);
  }, 60_000);
});

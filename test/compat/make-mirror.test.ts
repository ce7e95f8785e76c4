/**
 * make-mirror between two clusters, with the real etcdctl and with ctl: a prefix copied at its
 * current revision and then followed live (puts, deletes, a multi-key txn), renamed with
 * --dest-prefix or to the root with --no-dest-prefix; etcdctl mirrors etcdts into a real etcd
 * and ctl mirrors a real etcd into etcdts (and etcdts into etcdts); the argument errors match.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctlBin, hasEtcd, hasEtcdctl, inCI, killAll, run, startMember, waitFor, type MemberProc } from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI');

const etcdctl = (ep: string, args: string[], input?: string) => run('etcdctl', [`--endpoints=${ep}`, ...args], { input });

async function dump(ep: string): Promise<string> {
  return (await etcdctl(ep, ['get', '--prefix', ''])).stdout;
}

/** Mirrors src's `p/` into dest with `tool`, while writing to src; returns dest's keys. */
async function mirrorRun(tool: 'etcdctl' | 'ctl', src: MemberProc, dest: MemberProc, flags: string[], tag: string, destPrefix: string): Promise<string> {
  const arrived = async (k: string): Promise<boolean> => (await etcdctl(dest.endpoint, ['get', `${destPrefix}${k}`])).stdout === `${destPrefix}${k}\n${k}\n`;
  for (const k of ['a', 'b', 'c']) await etcdctl(src.endpoint, ['put', `${tag}/${k}`, k]);
  const argv = [`--endpoints=${src.endpoint}`, 'make-mirror', `--prefix=${tag}/`, ...flags, dest.endpoint];
  const p = tool === 'etcdctl' ? spawn('etcdctl', argv, { stdio: 'ignore', env: { ...process.env, ETCDCTL_API: '3' } }) : spawn(process.execPath, [ctlBin, ...argv], { stdio: 'ignore' });
  try {
    await waitFor('the base copy', () => arrived('c'), 20_000);
    await etcdctl(src.endpoint, ['put', `${tag}/d`, 'd']);
    await etcdctl(src.endpoint, ['del', `${tag}/a`]);
    await etcdctl(src.endpoint, ['txn'], `\nput ${tag}/e e\nput ${tag}/f f\n\n\n`);
    await etcdctl(src.endpoint, ['put', 'other/x', 'x']);
    await waitFor('the live changes', () => arrived('f'), 20_000);
    return dump(dest.endpoint);
  } finally {
    p.kill('SIGKILL');
  }
}

describe.skipIf(missing)('make-mirror', () => {
  let ts: MemberProc;
  let etcd: MemberProc;
  let ts2: MemberProc;

  beforeAll(async () => {
    [ts, etcd, ts2] = await Promise.all([startMember({ kind: 'etcdts', name: 'ts' }), startMember({ kind: 'etcd', name: 'etcd' }), startMember({ kind: 'etcdts', name: 'ts2' })]);
  }, 60_000);
  afterAll(() => killAll());

  it('the real etcdctl mirrors etcdts into etcd, renaming the prefix', async () => {
    expect(await mirrorRun('etcdctl', ts, etcd, ['--dest-prefix=copy1/'], 'm1', 'copy1/')).toBe('copy1/b\nb\ncopy1/c\nc\ncopy1/d\nd\ncopy1/e\ne\ncopy1/f\nf\n');
  }, 60_000);

  it('ctl mirrors etcd into etcdts the same way, and to the root with --no-dest-prefix', async () => {
    expect(await mirrorRun('ctl', etcd, ts2, ['--dest-prefix=copy2/'], 'm2', 'copy2/')).toBe('copy2/b\nb\ncopy2/c\nc\ncopy2/d\nd\ncopy2/e\ne\ncopy2/f\nf\n');
    const root = await mirrorRun('ctl', ts, ts2, ['--no-dest-prefix'], 'm3', '');
    expect(root).toContain('b\nb\nc\nc\n');
    expect(root).not.toContain('\na\na\n');
  }, 60_000);

  it('argument errors as etcdctl', async () => {
    for (const args of [['make-mirror'], ['make-mirror', '--no-dest-prefix', '--dest-prefix=x', etcd.endpoint]]) {
      const want = await etcdctl(ts.endpoint, args);
      const got = await run(process.execPath, [ctlBin, `--endpoints=${ts.endpoint}`, ...args]);
      expect({ args, code: got.code, stderr: got.stderr }).toEqual({ args, code: want.code, stderr: want.stderr });
    }
  }, 30_000);
});

/**
 * Election and Lock against a real etcd 3.4.23:
 * - the v3election / v3lock gRPC services: one scenario (no leader, campaign, proclaim with and
 *   without a leader key, leader, contended lock released by unlock, unlock of an empty key,
 *   resign) run on a fresh etcd and a fresh etcdts gives the same answers and errors, with
 *   ids and leases masked (fresh stores, so revisions agree);
 * - the real etcdctl's `lock` and `elect` against etcdts: two contending locks serialize (the
 *   second gets the lock when the first is interrupted), `lock -- cmd` runs the command with
 *   ETCD_LOCK_KEY and exits as etcdctl does, `elect -l` sees the leader's proposal;
 * - ctl's `lock` and `elect` print what etcdctl prints for the same runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElectionClient, LockClient } from '../../src/api/proto.js';
import { ctlBin, hasEtcd, hasEtcdctl, inCI, killAll, startMember, waitFor, type MemberProc } from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI (apt-get install etcd-server etcd-client)');

type Call = (m: string, req: unknown) => Promise<unknown>;

function client(ctor: grpc.ServiceClientConstructor, ep: string): Call {
  const c = new ctor(ep, grpc.credentials.createInsecure()) as unknown as Record<string, (req: unknown, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void>;
  return (m, req) => new Promise((resolve) => c[m]?.call(c, req, (e, r) => resolve(e ? { code: e.code, details: e.details } : r)));
}

/** Buffers as text, member/cluster ids, leases and lease-derived key suffixes masked. */
function show(x: unknown): unknown {
  return JSON.parse(
    JSON.stringify(x, (k, v: unknown) => {
      if (['cluster_id', 'member_id', 'raft_term', 'lease'].includes(k)) return '<m>';
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') return Buffer.from((v as { data: number[] }).data).toString().replace(/\/[0-9a-f]{1,16}$/, '/<lease>');
      return v;
    }),
  );
}

async function serviceScenario(ep: string): Promise<unknown[]> {
  const e = client(ElectionClient, ep);
  const l = client(LockClient, ep);
  const out: unknown[] = [];
  const name = Buffer.from('el');
  out.push(await e('Leader', { name }));
  const c1 = (await e('Campaign', { name, value: Buffer.from('v1') })) as { leader: unknown };
  out.push(c1);
  out.push(await e('Proclaim', { leader: c1.leader, value: Buffer.from('v2') }));
  out.push(await e('Proclaim', { value: Buffer.from('v2') }));
  out.push(await e('Proclaim', { leader: { name, key: Buffer.from('el/nothing'), rev: '2' }, value: Buffer.from('x') }));
  out.push(await e('Leader', { name }));
  const l1 = (await l('Lock', { name: Buffer.from('lk') })) as { key: Buffer };
  out.push(l1);
  const waiting = l('Lock', { name: Buffer.from('lk') });
  await new Promise((r) => setTimeout(r, 300));
  out.push(await l('Unlock', { key: l1.key }));
  out.push(await waiting);
  out.push(await l('Unlock', {}));
  out.push(await e('Resign', { leader: c1.leader }));
  out.push(await e('Leader', { name }));
  out.push(await e('Campaign', { name, lease: '12345', value: Buffer.from('x') }));
  return out.map(show);
}

interface Running {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function start(cmd: string, args: string[]): Running {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } });
  let text = '';
  proc.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out: () => text, exited };
}

const tools: Record<string, (ep: string, args: string[]) => Running> = {
  etcdctl: (ep, args) => start('etcdctl', [`--endpoints=${ep}`, ...args]),
  ctl: (ep, args) => start(process.execPath, [ctlBin, `--endpoints=${ep}`, ...args]),
};

const mask = (s: string): string => s.replace(/\/[0-9a-f]{1,16}\n/g, '/<lease>\n');

/** Two contending locks and a lock with a command; returns what each printed and its exit code. */
async function lockRun(tool: string, ep: string, name: string): Promise<string[]> {
  const run = tools[tool] as (ep: string, args: string[]) => Running;
  const first = run(ep, ['lock', name]);
  await waitFor('first lock', async () => first.out().includes(`${name}/`));
  const second = run(ep, ['lock', name, '--', 'sh', '-c', 'echo got ${ETCD_LOCK_KEY%/*}; exit 3']);
  await new Promise((r) => setTimeout(r, 700));
  const secondBefore = second.out();
  first.proc.kill('SIGINT');
  const c1 = await first.exited;
  const c2 = await second.exited;
  return [mask(first.out()), String(c1), secondBefore, second.out(), String(c2)].map((x) => x.replaceAll(name, 'NAME'));
}

async function electRun(tool: string, ep: string, name: string): Promise<string[]> {
  const run = tools[tool] as (ep: string, args: string[]) => Running;
  const listener = run(ep, ['elect', '-l', name]);
  await new Promise((r) => setTimeout(r, 500));
  const leader = run(ep, ['elect', name, 'proposal-1']);
  await waitFor('elected', async () => leader.out().includes('proposal-1'));
  await waitFor('observed', async () => listener.out().includes('proposal-1'));
  const second = run(ep, ['elect', name, 'proposal-2']);
  await new Promise((r) => setTimeout(r, 500));
  const secondBefore = second.out();
  leader.proc.kill('SIGINT');
  const c1 = await leader.exited;
  await waitFor('second elected', async () => second.out().includes('proposal-2'));
  await waitFor('observed second', async () => listener.out().includes('proposal-2'));
  second.proc.kill('SIGINT');
  listener.proc.kill('SIGINT');
  const [c2, c3] = await Promise.all([second.exited, listener.exited]);
  return [mask(leader.out()), String(c1), secondBefore, mask(second.out()), String(c2), mask(listener.out()), String(c3)].map((x) => x.replaceAll(name, 'NAME'));
}

describe.skipIf(missing)('election and lock: etcdts against etcd 3.4.23', () => {
  let ts: MemberProc;
  let etcd: MemberProc;

  beforeAll(async () => {
    [ts, etcd] = await Promise.all([startMember({ kind: 'etcdts', name: 'ts' }), startMember({ kind: 'etcd', name: 'etcd' })]);
  }, 60_000);
  afterAll(() => killAll());

  it('the Election and Lock services answer as etcd does, errors included', async () => {
    const want = await serviceScenario(etcd.endpoint);
    const got = await serviceScenario(ts.endpoint);
    expect(got).toEqual(want);
  }, 30_000);

  it('two contending etcdctl locks on etcdts serialize; the second runs its command once the first is interrupted', async () => {
    const [out1, c1, secondBefore, out2, c2] = await lockRun('etcdctl', ts.endpoint, 'lk1');
    expect(out1).toBe('NAME/<lease>\n\n');
    expect(c1).toBe('0');
    expect(secondBefore).toBe('');
    expect(out2).toBe('got NAME\nError: exit status 3\n');
    expect(c2).toBe('1');
  }, 30_000);

  it('ctl lock prints and exits as etcdctl does (against etcd and against etcdts)', async () => {
    const want = await lockRun('etcdctl', etcd.endpoint, 'lk2');
    expect(await lockRun('ctl', etcd.endpoint, 'lk3')).toEqual(want);
    expect(await lockRun('ctl', ts.endpoint, 'lk4')).toEqual(want);
  }, 60_000);

  it('etcdctl elect and elect -l on etcdts: the leader holds until interrupted, the next proposal wins, the listener sees both', async () => {
    const r = await electRun('etcdctl', ts.endpoint, 'el1');
    expect(r).toEqual(['NAME/<lease>\nproposal-1\n', '0', '', 'NAME/<lease>\nproposal-2\n', '0', 'NAME/<lease>\nproposal-1\nNAME/<lease>\nproposal-2\n', '0']);
  }, 30_000);

  it('ctl elect prints and exits as etcdctl does', async () => {
    const want = await electRun('etcdctl', etcd.endpoint, 'el2');
    expect(await electRun('ctl', etcd.endpoint, 'el3')).toEqual(want);
    expect(await electRun('ctl', ts.endpoint, 'el4')).toEqual(want);
  }, 60_000);
});

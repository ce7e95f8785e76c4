/**
 * `watch` compared three ways on the same scenario, each on a fresh server (so revisions agree):
 * the real etcdctl 3.4.23 against a real etcd (the reference), the real etcdctl against etcdts,
 * and our ctl against a real etcd. Watches start at an explicit --rev, so when the watch
 * process connects does not matter. Covered: simple/json/fields output with --prev-kv over puts,
 * a multi-line value, deletes and a multi-op txn; a compacted --rev (canceled, exit 5); exec
 * commands with ETCD_WATCH_* variables; argument errors. Ids and terms are masked.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasEtcd,
  hasEtcdctl,
  inCI,
  killAll,
  repoRoot,
  run,
  startMember,
  waitFor,
  type MemberProc,
  type RunResult,
} from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI (apt-get install etcd-server etcd-client)');

type Tool = (endpoint: string, args: string[], opts?: { input?: string; env?: Record<string, string> }) => Promise<RunResult>;

const etcdctlTool: Tool = (ep, args, opts = {}) => run('etcdctl', [`--endpoints=${ep}`, ...args], opts);
const ctlArgs = (ep: string, args: string[]): string[] => ['--import', 'tsx', `${repoRoot}/src/cli/main.ts`, `--endpoints=${ep}`, ...args];
const ctlTool: Tool = (ep, args, opts = {}) => run(process.execPath, ctlArgs(ep, args), opts);

interface Spawner {
  cmd: string;
  args: (ep: string, args: string[]) => string[];
}
const etcdctlSpawn: Spawner = { cmd: 'etcdctl', args: (ep, a) => [`--endpoints=${ep}`, ...a] };
const ctlSpawn: Spawner = { cmd: process.execPath, args: ctlArgs };

function mask(s: string): string {
  return s
    .replace(/"cluster_id":\d+/g, '"cluster_id":<id>')
    .replace(/"member_id":\d+/g, '"member_id":<id>')
    .replace(/"raft_term":\d+/g, '"raft_term":<term>')
    .replace(/"(ClusterID|MemberID|RaftTerm)" : \d+/g, '"$1" : <n>');
}

/** Runs a long-lived watch until its stdout satisfies `until` (then SIGTERM) or it exits. */
function watchProc(sp: Spawner, ep: string, args: string[], until: (out: string) => boolean, env: Record<string, string> = {}): { result: Promise<RunResult>; seen: () => string } {
  const p = spawn(sp.cmd, sp.args(ep, args), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3', ...env } });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((r) => p.once('close', (code) => r(code)));
  const result = (async () => {
    let exited = false;
    void closed.then(() => (exited = true));
    await waitFor('watch output', async () => exited || until(stdout), 30_000);
    if (!exited) p.kill('SIGTERM');
    const code = await closed;
    return { stdout: mask(stdout), stderr: mask(stderr), code: exited ? code : null };
  })();
  return { result, seen: () => stdout };
}

async function currentRev(ep: string): Promise<number> {
  const r = await etcdctlTool(ep, ['get', 'nothing-here', '-w', 'json']);
  return Number((JSON.parse(r.stdout) as { header: { revision: number } }).header.revision);
}

/** The scenario, run with one watching tool against one server; writes go through etcdctl. */
async function scenario(sp: Spawner, tool: Tool, ep: string): Promise<Record<string, RunResult>> {
  const out: Record<string, RunResult> = {};
  const rev = (await currentRev(ep)) + 1;
  const done = (s: string): boolean => s.includes('wp/end');
  const watches = {
    simple: watchProc(sp, ep, ['watch', 'wp/', '--prefix', '--prev-kv', `--rev=${rev}`], done),
    json: watchProc(sp, ep, ['watch', 'wp/', '--prefix', `--rev=${rev}`, '-w', 'json'], (s) => s.includes('"d3AvZW5k"')),
    fields: watchProc(sp, ep, ['watch', 'wp/', 'wp0', '--prev-kv', `--rev=${rev}`, '-w', 'fields'], done),
    exec: watchProc(
      sp,
      ep,
      ['watch', 'wp/', '--prefix', `--rev=${rev}`, '--', 'sh', '-c', 'echo "ENV $ETCD_WATCH_REVISION $ETCD_WATCH_KEY $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_VALUE"'],
      (s) => s.includes('ENV') && s.includes('wp/end') && s.trim().endsWith('"done"'),
    ),
    envKey: watchProc(sp, ep, ['watch', `--rev=${rev}`], (s) => s.includes('y\n'), { ETCDCTL_WATCH_KEY: 'wp/d' }),
  };
  await etcdctlTool(ep, ['put', 'wp/a', '1']);
  // Once a watcher has printed the first revision it is caught up: every later revision then
  // arrives live, one response each, whenever the watch process happened to connect.
  const early = [watches.simple, watches.json, watches.fields, watches.exec];
  await waitFor('every watcher caught up', async () => early.every((w) => w.seen().length > 0), 60_000);
  await etcdctlTool(ep, ['put', 'wp/a', '2']);
  await etcdctlTool(ep, ['put', 'wp/b', 'two\nlines']);
  await etcdctlTool(ep, ['del', 'wp/a']);
  await etcdctlTool(ep, ['txn'], { input: '\nput wp/c x\nput wp/d y\ndel wp/b\n\n\n' });
  await etcdctlTool(ep, ['put', 'wp/end', 'done']);
  for (const [k, w] of Object.entries(watches)) out[k] = await w.result;

  // A compacted start revision: canceled by the server, exit 5.
  await etcdctlTool(ep, ['put', 'wc', '1']);
  await etcdctlTool(ep, ['put', 'wc', '2']);
  const now = await currentRev(ep);
  await etcdctlTool(ep, ['compaction', String(now)]);
  out['compacted'] = await watchProc(sp, ep, ['watch', 'wc', `--rev=${now - 1}`], () => false).result;
  out['compactedJson'] = await watchProc(sp, ep, ['watch', 'wc', `--rev=${now - 1}`, '-w', 'json'], () => false).result;
  // At the compaction revision itself: still served.
  out['atCompaction'] = await watchProc(sp, ep, ['watch', 'wc', `--rev=${now}`], (s) => s.includes('2\n')).result;

  // Argument errors (no server round trip).
  out['noKey'] = await tool(ep, ['watch']);
  out['rangeAndPrefix'] = await tool(ep, ['watch', 'a', 'b', '--prefix']);
  out['dashNoCommand'] = await tool(ep, ['watch', 'a', '--']);
  out['envConflict'] = await tool(ep, ['watch', 'a'], { env: { ETCDCTL_WATCH_KEY: 'b' } });
  out['envRangeOnly'] = await tool(ep, ['watch', 'a'], { env: { ETCDCTL_WATCH_RANGE_END: 'b' } });
  for (const k of ['noKey', 'rangeAndPrefix', 'dashNoCommand', 'envConflict', 'envRangeOnly']) {
    const r = out[k] as RunResult;
    out[k] = { stdout: mask(r.stdout), stderr: mask(r.stderr), code: r.code };
  }
  return out;
}

describe.skipIf(missing)(`watch: etcdctl vs etcdts, ctl vs etcdctl${missing ? ' (SKIPPED: etcd/etcdctl not installed)' : ''}`, () => {
  let reference: Record<string, RunResult>;
  let members: MemberProc[];

  beforeAll(async () => {
    members = await Promise.all([startMember({ kind: 'etcd' }), startMember({ kind: 'etcdts' }), startMember({ kind: 'etcd' })]);
    reference = await scenario(etcdctlSpawn, etcdctlTool, (members[0] as MemberProc).endpoint);
  }, 120_000);
  afterAll(() => killAll());

  it('the reference run itself shows the behaviour under test', () => {
    expect(reference['simple']?.stdout).toContain('PUT\nwp/a\n1\nwp/a\n2\n');
    expect(reference['compacted']?.code).toBe(5);
    expect(reference['compacted']?.stderr).toContain('watch was canceled (etcdserver: mvcc: required revision has been compacted)');
    expect(reference['exec']?.stdout).toContain('ENV');
  });

  it('the real etcdctl prints the same against etcdts as against etcd', async () => {
    const ours = await scenario(etcdctlSpawn, etcdctlTool, (members[1] as MemberProc).endpoint);
    for (const k of Object.keys(reference)) expect({ k, ...ours[k] }).toEqual({ k, ...reference[k] });
  }, 120_000);

  it('ctl watch prints what etcdctl watch prints (against a real etcd)', async () => {
    const ours = await scenario(ctlSpawn, ctlTool, (members[2] as MemberProc).endpoint);
    for (const k of Object.keys(reference)) expect({ k, ...ours[k] }).toEqual({ k, ...reference[k] });
  }, 180_000);
});

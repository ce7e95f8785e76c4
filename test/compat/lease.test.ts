/**
 * Leases against the real etcdctl 3.4.23 and a real etcd 3.4.23.
 *
 * 1. The real etcdctl against etcdts and against etcd, started with the same member/cluster
 *    flags (so the same ids) and a 500 ms election timeout (min TTL 1 s): the same lease
 *    commands must give the same stdout, stderr and exit code. Lease ids are chosen by each
 *    server (time-based), so they are replaced by <L1>, <L2>… in order of grant; raft terms and
 *    retry-warning timestamps are masked. Expiry runs through the real processes.
 * 2. ctl against etcdctl, each against its own real etcd (same ids): ctl must print what
 *    etcdctl prints in every output format, errors included.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  etcdctl,
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

const sameIds = [
  '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
  '--initial-cluster', 'default=http://127.0.0.1:2380',
  '--advertise-client-urls', 'http://127.0.0.1:2379',
  '--election-timeout', '500',
  '--heartbeat-interval', '100',
];

/** One server's lease ids in grant order, for masking. */
class Ids {
  readonly list: bigint[] = [];
  addId(id: bigint): void {
    this.list.push(id);
  }
  add(stdout: string): bigint {
    const m = /^lease ([0-9a-f]{16}) granted/.exec(stdout);
    if (!m) throw new Error(`no lease id in ${JSON.stringify(stdout)}`);
    const id = BigInt('0x' + (m[1] as string));
    this.list.push(id);
    return id;
  }
  mask(s: string): string {
    let out = s;
    this.list.forEach((id, i) => {
      out = out.replaceAll(id.toString(16).padStart(16, '0'), `<L${i + 1}>`).replaceAll(id.toString(10), `<L${i + 1}>`);
    });
    // leases granted by a command whose output failed (e.g. -w table) are not tracked
    return out.replace(/^[0-9a-f]{16}$/gm, '<untracked>');
  }
}

function maskCommon(s: string, port: string): string {
  return s
    .replaceAll(`127.0.0.1:${port}`, '127.0.0.1:<port>')
    .replace(/"ts":"[^"]*"/g, '"ts":<ts>')
    .replace(/client-[0-9a-f-]{36}/g, 'client-<uuid>')
    .replace(/"raft_term":\d+/g, '"raft_term":<term>')
    .replace(/"RaftTerm" : \d+/g, '"RaftTerm" : <term>')
    .replace(/raft_term:\d+/g, 'raft_term:<term>')
    // remaining TTLs depend on when each tool got to ask
    .replace(/remaining\(\d+s\)/g, 'remaining(<n>s)')
    .replace(/"ttl":\d+/g, '"ttl":<n>')
    .replace(/"TTL" : \d+\n"GrantedTTL"/g, '"TTL" : <n>\n"GrantedTTL"');
}

/** etcd lists a lease's keys in Go map order (random): compare them sorted. */
function sortKeys(s: string): string {
  return s
    .replace(/attached keys\(\[([^\]\n]*)\]\)/g, (_m, ks: string) => `attached keys([${ks.split(' ').sort().join(' ')}])`)
    .replace(/"keys":\[([^\]]*)\]/g, (_m, ks: string) => `"keys":[${ks.split(',').sort().join(',')}]`)
    .replace(/(?:"Key" : .*\n)+/g, (block) => block.split('\n').filter((l) => l !== '').sort().map((l) => l + '\n').join(''));
}

function masked(r: RunResult, ids: Ids, m: MemberProc): RunResult {
  const port = m.endpoint.split(':')[1] as string;
  const f = (s: string): string => sortKeys(ids.mask(maskCommon(s, port)));
  return { stdout: f(r.stdout), stderr: f(r.stderr), code: r.code };
}

describe.skipIf(missing)(`etcdctl lease commands against etcdts and etcd${missing ? ' (skipped: etcd/etcdctl not installed)' : ''}`, () => {
  let ours: MemberProc;
  let theirs: MemberProc;
  const oursIds = new Ids();
  const theirsIds = new Ids();

  beforeAll(async () => {
    [ours, theirs] = await Promise.all([startMember({ kind: 'etcdts', args: sameIds }), startMember({ kind: 'etcd', args: sameIds })]);
  }, 60_000);
  afterAll(() => killAll());

  async function same(args: (string | ((ids: Ids) => string))[], input?: string): Promise<RunResult> {
    const argsFor = (ids: Ids): string[] => args.map((a) => (typeof a === 'function' ? a(ids) : a));
    const [a, b] = await Promise.all([etcdctl(ours.endpoint, argsFor(oursIds), input), etcdctl(theirs.endpoint, argsFor(theirsIds), input)]);
    const shown = args.map((a) => (typeof a === 'function' ? '<id>' : a)).join(' ');
    expect({ args: shown, ...masked(a, oursIds, ours) }).toEqual({ args: shown, ...masked(b, theirsIds, theirs) });
    return masked(a, oursIds, ours);
  }

  async function grantBoth(ttl: string): Promise<void> {
    const [a, b] = await Promise.all([etcdctl(ours.endpoint, ['lease', 'grant', ttl]), etcdctl(theirs.endpoint, ['lease', 'grant', ttl])]);
    oursIds.add(a.stdout);
    theirsIds.add(b.stdout);
    expect(masked(a, oursIds, ours)).toEqual(masked(b, theirsIds, theirs));
  }

  const L = (n: number) => (ids: Ids): string => (ids.list[n - 1] as bigint).toString(16);

  it('grants, attaches keys, lists and reports time-to-live identically in every format', async () => {
    await grantBoth('100'); // L1
    await grantBoth('200'); // L2
    await same(['put', (ids) => `--lease=${L(1)(ids)}`, 'k1', 'v1']);
    await same(['put', (ids) => `--lease=${L(1)(ids)}`, 'k2', 'v2']);
    await same(['put', (ids) => `--lease=${L(2)(ids)}`, 'k3', 'v3']);
    await same(['lease', 'timetolive', L(1)]);
    await same(['lease', 'timetolive', '--keys', L(1)]);
    await same(['lease', 'timetolive', '--keys', L(1), '-w', 'json']);
    await same(['lease', 'timetolive', '--keys', L(1), '-w', 'fields']);
    await same(['lease', 'timetolive', L(2), '-w', 'json']);
    await same(['lease', 'timetolive', L(1), '-w', 'table']);
    await same(['lease', 'list']);
    await same(['lease', 'list', '-w', 'json']);
    await same(['lease', 'list', '-w', 'fields']);
    await same(['lease', 'keep-alive', '--once', L(2)]);
    await same(['lease', 'keep-alive', '--once', L(2), '-w', 'json']);
    await same(['lease', 'keep-alive', '--once', L(2), '-w', 'fields']);
    await same(['get', 'k', '--prefix', '-w', 'json']);
    // ignore-lease keeps the lease; a put without --lease detaches the key
    await same(['put', '--ignore-lease', 'k2', 'v2b']);
    await same(['put', 'k1', 'v1b']);
    await same(['lease', 'timetolive', '--keys', L(1)]);
    await same(['get', 'k', '--prefix', '-w', 'fields']);
  }, 120_000);

  it('revokes: the attached keys are deleted in one revision, the lease is gone', async () => {
    await same(['lease', 'revoke', L(1), '-w', 'json']);
    await same(['get', 'k', '--prefix']);
    await same(['get', 'k2', '--rev', '7']);
    await same(['get', 'k2', '--rev', '8']);
    await same(['lease', 'timetolive', L(1)]);
    await same(['lease', 'revoke', L(2)]);
    await same(['get', 'k', '--prefix', '-w', 'json']);
    await same(['lease', 'list']);
    await same(['lease', 'list', '-w', 'json']);
  }, 120_000);

  it('answers unknown leases, bad arguments and limits as etcd', async () => {
    await same(['lease', 'keep-alive', '--once', '1234']);
    await same(['lease', 'timetolive', '1234']);
    await same(['lease', 'timetolive', '1234', '-w', 'json']);
    await same(['lease', 'timetolive', '1234', '-w', 'fields']);
    await same(['lease', 'revoke', '1234']);
    await same(['put', '--lease=1234', 'k', 'v']);
    await same(['lease', 'grant', '9000000001']);
    await same(['lease', 'grant', 'abc']);
    await same(['lease', 'grant']);
    await same(['lease', 'revoke', 'zz']);
    await same(['lease', 'keep-alive']);
  }, 120_000);

  it('raises a TTL below 1.5 × election timeout to the minimum (1 s here), then expires the key with a DELETE revision', async () => {
    const t0 = Date.now();
    await grantBoth('0'); // L3, raised to 1 s
    // (grantBoth compared the two outputs: both say "granted with TTL(1s)")
    await same(['put', (ids) => `--lease=${L(3)(ids)}`, 'exp', 'v']);
    const revAt = async (m: MemberProc): Promise<number> => JSON.parse((await etcdctl(m.endpoint, ['get', 'exp', '-w', 'json'])).stdout).header.revision;
    const [r1, r2] = await Promise.all([revAt(ours), revAt(theirs)]);
    expect(r1).toBe(r2);
    // Watchers from the put's revision see the PUT, then the expiry's DELETE.
    const wa = watched('etcdctl', [`--endpoints=${ours.endpoint}`, 'watch', 'exp', '--rev', String(r1), '-w', 'json']);
    const wb = watched('etcdctl', [`--endpoints=${theirs.endpoint}`, 'watch', 'exp', '--rev', String(r1), '-w', 'json']);
    const gone = async (m: MemberProc): Promise<number> => {
      await waitFor(`key exp gone from ${m.endpoint}`, async () => (await etcdctl(m.endpoint, ['get', 'exp'])).stdout === '', 15_000, 100);
      return Date.now() - t0;
    };
    const [tOurs] = await Promise.all([gone(ours), gone(theirs)]);
    // Not before its TTL; within TTL + extend (one election timeout) + slack for this machine.
    expect(tOurs).toBeGreaterThanOrEqual(900);
    expect(tOurs).toBeLessThan(1000 + 500 + 5000);
    // The expiry is a revoke in the log: exactly one revision, the key visible just before it.
    await same(['get', 'exp', '--rev', String(r1)]);
    await same(['get', 'exp', '-w', 'json']);
    await same(['lease', 'timetolive', L(3)]);
    await waitFor('DELETE seen by both watchers', async () => wa.out().includes('"type":1') && wb.out().includes('"type":1'), 15_000, 100);
    wa.kill();
    wb.kill();
    type Ev = { type?: number; kv: { key: string; mod_revision: number; lease?: number; value?: string } };
    const events = (w: ReturnType<typeof watched>): unknown[] =>
      w
        .out()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        // lease ids differ between the servers (JSON numbers past 2^53: compare presence only)
        .flatMap((l) => (JSON.parse(l.replace(/"lease":\d+/g, '"lease":1')) as { Events: Ev[] }).Events);
    expect(events(wa)).toEqual(events(wb));
    expect(events(wa)).toHaveLength(2); // the PUT at r1, the DELETE at r1 + 1 (lease 0, no value)
    expect(events(wa)[1]).toEqual({ type: 1, kv: { key: Buffer.from('exp').toString('base64'), mod_revision: r1 + 1 } });
  }, 120_000);

  it('keep-alive keeps a lease alive past its TTL, then ends with "expired or revoked." once revoked', async () => {
    // TTL 5 (not less): etcdctl must get its first keepalive in before the lease expires, even
    // on a loaded machine; then 4 keepalives (every TTL/3) carry the lease past its TTL.
    await grantBoth('5'); // L4
    const start = (m: MemberProc, ids: Ids): ReturnType<typeof watched> =>
      watched('etcdctl', [`--endpoints=${m.endpoint}`, 'lease', 'keep-alive', (ids.list[3] as bigint).toString(16)]);
    const ka = start(ours, oursIds);
    const kb = start(theirs, theirsIds);
    await waitFor('4 keepalives each', async () => ka.lines() >= 4 && kb.lines() >= 4, 30_000, 100);
    await same(['lease', 'timetolive', L(4)]);
    await same(['lease', 'revoke', L(4)]);
    const [a, b] = await Promise.all([ka.done, kb.done]);
    for (const [r, ids, m] of [[a, oursIds, ours], [b, theirsIds, theirs]] as const) {
      const x = masked(r, ids, m);
      const lines = x.stdout.trimEnd().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(5);
      expect(new Set(lines.slice(0, -1))).toEqual(new Set(['lease <L4> keepalived with TTL(5)']));
      expect(lines.at(-1)).toBe('lease <L4> expired or revoked.');
      expect(x.code).toBe(0);
    }
  }, 120_000);

  it('keeps leases, TTLs and attachments across a restart of etcdts', async () => {
    await grantBoth('300'); // L5
    await same(['put', (ids) => `--lease=${L(5)(ids)}`, 'survivor', 'v']);
    await ours.kill('SIGKILL');
    ours = await startMember({ kind: 'etcdts', dataDir: ours.dataDir, clientPort: Number(ours.endpoint.split(':')[1]), args: sameIds });
    const r = await etcdctl(ours.endpoint, ['lease', 'timetolive', '--keys', L(5)(oursIds)]);
    expect(oursIds.mask(r.stdout)).toMatch(/^lease <L5> granted with TTL\(300s\), remaining\((29\d|300)s\), attached keys\(\[survivor\]\)\n$/);
    await same(['get', 'survivor']);
  }, 120_000);
});

/**
 * A long-running command (lease keep-alive) whose stdout lines can be watched while it runs;
 * `done` resolves with its whole result when it exits (killed after 60 s at the latest).
 */
function watched(cmd: string, args: string[]): { lines: () => number; out: () => string; kill: () => void; done: Promise<RunResult> } {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
  const done = new Promise<RunResult>((resolve) =>
    p.once('close', (code) => {
      clearTimeout(t);
      resolve({ stdout, stderr, code });
    }),
  );
  return { lines: () => stdout.split('\n').filter((l) => l !== '').length, out: () => stdout, kill: () => p.kill('SIGTERM'), done };
}

function ctlRun(endpoint: string, args: string[], input?: string): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', `${repoRoot}/src/cli/main.ts`, `--endpoints=${endpoint}`, ...args], { input });
}

describe.skipIf(missing)(`ctl lease commands print what etcdctl 3.4.23 prints${missing ? ' (skipped: etcd/etcdctl not installed)' : ''}`, () => {
  let forEtcdctl: MemberProc;
  let forCtl: MemberProc;
  const etcdctlIds = new Ids();
  const ctlIds = new Ids();

  beforeAll(async () => {
    [forEtcdctl, forCtl] = await Promise.all([startMember({ kind: 'etcd', args: sameIds }), startMember({ kind: 'etcd', args: sameIds })]);
  }, 60_000);
  afterAll(() => killAll());

  async function both(args: (string | ((ids: Ids) => string))[]): Promise<RunResult> {
    const argsFor = (ids: Ids): string[] => args.map((a) => (typeof a === 'function' ? a(ids) : a));
    const [want, got] = await Promise.all([etcdctl(forEtcdctl.endpoint, argsFor(etcdctlIds)), ctlRun(forCtl.endpoint, argsFor(ctlIds))]);
    const shown = args.map((a) => (typeof a === 'function' ? '<id>' : a)).join(' ');
    const g = masked(got, ctlIds, forCtl);
    expect({ args: shown, ...g }).toEqual({ args: shown, ...masked(want, etcdctlIds, forEtcdctl) });
    return g;
  }

  async function grantBoth(args: string[]): Promise<void> {
    const [want, got] = await Promise.all([etcdctl(forEtcdctl.endpoint, ['lease', 'grant', ...args]), ctlRun(forCtl.endpoint, ['lease', 'grant', ...args])]);
    etcdctlIds.add(want.stdout);
    ctlIds.add(got.stdout);
    expect(masked(got, ctlIds, forCtl)).toEqual(masked(want, etcdctlIds, forEtcdctl));
  }

  const L = (n: number) => (ids: Ids): string => (ids.list[n - 1] as bigint).toString(16);

  it('prints grant, time-to-live, list, keep-alive --once and revoke identically in every format', async () => {
    await grantBoth(['100']);
    await grantBoth(['50']);
    await both(['put', (ids) => `--lease=${L(1)(ids)}`, 'a', '1']);
    await both(['put', (ids) => `--lease=${L(1)(ids)}`, 'b\x01"q', '2']);
    for (const w of ['simple', 'json', 'fields', 'protobuf', 'table']) {
      await both(['lease', 'timetolive', L(1), '-w', w]);
      await both(['lease', 'timetolive', '--keys', L(1), '-w', w]);
      await both(['lease', 'list', '-w', w]);
      await both(['lease', 'keep-alive', '--once', L(2), '-w', w]);
      await both(['lease', 'timetolive', 'abcdef', '-w', w]);
    }
    await both(['lease', 'revoke', L(2), '-w', 'protobuf']);
    await both(['lease', 'grant', '30', '-w', 'protobuf']);
    await both(['lease', 'grant', '30', '-w', 'table']);
    await both(['lease', 'revoke', L(1), '-w', 'fields']);
    await both(['get', '', '--from-key']);
  }, 180_000);

  it('grant JSON carries the flattened header, ID, TTL and Error', async () => {
    const [want, got] = await Promise.all([etcdctl(forEtcdctl.endpoint, ['lease', 'grant', '40', '-w', 'json']), ctlRun(forCtl.endpoint, ['lease', 'grant', '40', '-w', 'json'])]);
    etcdctlIds.addId(BigInt(JSON.parse(want.stdout).ID));
    ctlIds.addId(BigInt(JSON.parse(got.stdout).ID));
    const shape = (s: string): string => s.replace(/"ID":\d+/, '"ID":<id>');
    expect(shape(got.stdout)).toBe(shape(want.stdout));
    expect(got.stdout).toMatch(/^\{"cluster_id":\d+,"member_id":\d+,"revision":\d+,"raft_term":\d+,"ID":\d+,"TTL":40,"Error":""\}\n$/);
  }, 60_000);

  it('rejects bad arguments and reports server errors identically', async () => {
    for (const args of [
      ['lease', 'grant'],
      ['lease', 'grant', '1', '2'],
      ['lease', 'grant', 'x1'],
      ['lease', 'grant', '99999999999999999999'],
      ['lease', 'grant', '9000000001'],
      ['lease', 'revoke'],
      ['lease', 'revoke', 'g'],
      ['lease', 'revoke', '1234'],
      ['lease', 'timetolive'],
      ['lease', 'timetolive', 'q'],
      ['lease', 'keep-alive'],
      ['lease', 'keep-alive', '--once', '1234'],
      ['lease', 'keep-alive', '--once', '1234', '-w', 'json'],
      ['lease', 'list', 'extra'],
      ['lease'],
      ['lease', '--help'],
      ['lease', 'grant', '--help'],
      ['lease', 'timetolive', '-h'],
      ['lease', 'keep-alive', '--help'],
      ['put', '--lease=1234', 'k', 'v'],
    ]) {
      await both(args);
    }
  }, 180_000);

  it('keep-alive ends with "expired or revoked." when the lease is revoked', async () => {
    await grantBoth(['6']);
    const n = etcdctlIds.list.length;
    const w = watched('etcdctl', [`--endpoints=${forEtcdctl.endpoint}`, 'lease', 'keep-alive', L(n)(etcdctlIds)]);
    const g = watched(process.execPath, ['--import', 'tsx', `${repoRoot}/src/cli/main.ts`, `--endpoints=${forCtl.endpoint}`, 'lease', 'keep-alive', L(n)(ctlIds)]);
    await waitFor('2 keepalives each', async () => w.lines() >= 2 && g.lines() >= 2, 30_000, 100);
    await both(['lease', 'revoke', L(n)]);
    const [want, got] = await Promise.all([w.done, g.done]);
    const norm = (r: RunResult, ids: Ids, m: MemberProc): string[] => [...new Set(masked(r, ids, m).stdout.trimEnd().split('\n'))];
    expect(norm(got, ctlIds, forCtl)).toEqual(norm(want, etcdctlIds, forEtcdctl));
    expect(norm(got, ctlIds, forCtl).at(-1)).toBe(`lease <L${n}> expired or revoked.`);
    expect(got.code).toBe(want.code);
  }, 60_000);
});

/**
 * Real-process fault harness (issue 14): N real members (etcdts, or etcd for comparison), C
 * concurrent gRPC clients doing linearizable gets, puts, deletes and compare-and-swap txns on a
 * few keys, and a nemesis that, one fault at a time, kills -9 and restarts, pauses, partitions,
 * fills the disk, slows fsync and fires failpoints (scripts/harness/nemesis.ts). At the end it
 * heals everything, waits for the cluster, reads every key through every member and checks:
 * the history is linearizable (test/helpers/kv-history.ts), nothing acknowledged was lost and
 * nothing was applied twice (watch from revision 1 on every member), the members converge
 * (equal HashKV at equal revision), no member is stuck, no member exited on its own. It prints
 * the figures (operations, faults by kind, availability during faults) and the replay command.
 *
 *   node --import tsx scripts/fault-harness.ts --members 3 --duration 60 --seed 7 \
 *     --clients 10 --keys 5 --faults kill,pause,partition,disk,slowfs,failpoint [--target etcd]
 *
 * Partitions need network namespaces (root and iproute2): the harness then runs itself inside
 * a hub namespace and each member in its own (scripts/harness/netns.ts), and deletes them all
 * at the end. A full disk needs a tmpfs per member (root). Without root the run uses loopback
 * ports and only the faults it can make. Exit status: 0 pass, 1 a check failed, 2 bad usage or
 * the harness itself failed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SeededRand } from '../src/base/random.js';
import { checkKvHistory, type KvOp } from '../test/helpers/kv-history.js';
import { checkDurability, hashKv, memberStatus, sameEvents, watchHistory, type HashKvAnswer, type WatchedEvent } from './harness/final-checks.js';
import { Member, repoRoot, type Target } from './harness/members.js';
import { faultKinds, Nemesis, type FaultKind, type FaultRecord } from './harness/nemesis.js';
import { createNetns, deleteNetns, memberAddress, netnsNames, netnsPids, netnsUsable, staleNetns, type Netns } from './harness/netns.js';
import { errorText, KvConn, runOp, Workload, type OpRecord } from './harness/workload.js';

interface Options {
  target: Target;
  members: number;
  durationS: number;
  seed: number;
  clients: number;
  keys: number;
  faults: FaultKind[] | null;
  net: 'netns' | 'loopback' | null;
  opTimeoutMs: number;
  thinkMs: number;
  faultS: [number, number];
  gapS: [number, number];
  recoverS: number;
  keep: boolean;
  json: string | null;
  inner: string | null;
}

function usage(msg: string): never {
  process.stderr.write(`fault-harness: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    target: 'etcdts',
    members: 3,
    durationS: 60,
    seed: Math.floor(Math.random() * 2 ** 31),
    clients: 10,
    keys: 5,
    faults: null,
    net: null,
    opTimeoutMs: 2500,
    thinkMs: 10,
    faultS: [1, 8],
    gapS: [1, 4],
    recoverS: 90,
    keep: false,
    json: null,
    inner: null,
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i] as string;
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const val = (): string => {
      if (v !== undefined) return v;
      const n = argv[++i];
      if (n === undefined) usage(`${a} needs a value`);
      return n;
    };
    const num = (): number => {
      const x = Number(val());
      if (!Number.isFinite(x) || x < 0) usage(`${a} needs a non-negative number`);
      return x;
    };
    const range = (): [number, number] => {
      const [lo, hi] = val().split(',').map(Number);
      if (!(Number.isFinite(lo) && Number.isFinite(hi) && (lo as number) <= (hi as number))) usage(`${a} wants lo,hi`);
      return [lo as number, hi as number];
    };
    switch (a) {
      case '--target': {
        const t = val();
        if (t !== 'etcdts' && t !== 'etcd') usage('--target is etcdts or etcd');
        o.target = t;
        break;
      }
      case '--members':
        o.members = num();
        break;
      case '--duration':
        o.durationS = num();
        break;
      case '--seed':
        o.seed = num() >>> 0;
        break;
      case '--clients':
        o.clients = num();
        break;
      case '--keys':
        o.keys = num();
        break;
      case '--faults': {
        const s = val();
        const list = s === 'none' || s === '' ? [] : s.split(',');
        for (const f of list) if (!(faultKinds as readonly string[]).includes(f)) usage(`unknown fault ${f} (known: ${faultKinds.join(', ')}, none)`);
        o.faults = list as FaultKind[];
        break;
      }
      case '--net': {
        const s = val();
        if (s !== 'netns' && s !== 'loopback') usage('--net is netns or loopback');
        o.net = s;
        break;
      }
      case '--op-timeout':
        o.opTimeoutMs = num();
        break;
      case '--think':
        o.thinkMs = num();
        break;
      case '--fault-seconds':
        o.faultS = range();
        break;
      case '--gap-seconds':
        o.gapS = range();
        break;
      case '--recover-timeout':
        o.recoverS = num();
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--json':
        o.json = val();
        break;
      case '--inner':
        o.inner = val();
        break;
      case '--help':
        process.stdout.write('see the header of scripts/fault-harness.ts\n');
        process.exit(0);
        break;
      default:
        usage(`unknown flag ${a}`);
    }
  }
  if (o.members < 1 || o.members > 9) usage('--members is 1..9');
  if (o.clients < 1) usage('--clients is at least 1');
  if (o.keys < 1) usage('--keys is at least 1');
  return o;
}

/** The flags that replay this run (same schedule; the processes' timing will differ). */
function replayCommand(o: Options): string {
  const f = [
    `--target ${o.target}`,
    `--members ${o.members}`,
    `--duration ${o.durationS}`,
    `--seed ${o.seed}`,
    `--clients ${o.clients}`,
    `--keys ${o.keys}`,
    `--faults ${o.faults === null ? 'default' : o.faults.length ? o.faults.join(',') : 'none'}`,
  ];
  return `node --import tsx scripts/fault-harness.ts ${f.join(' ').replace('--faults default', '')}`.trim();
}

// ---------------------------------------------------------------------------------------------
// Outer process: namespaces around the inner run.

async function outer(o: Options, argv: string[]): Promise<number> {
  const prefix = 'eh';
  for (const ns of staleNetns(prefix)) spawnSync('ip', ['netns', 'del', ns]);
  const n = netnsNames(`${prefix}${process.pid}`, o.members);
  try {
    createNetns(n);
  } catch (e) {
    deleteNetns(n);
    throw e;
  }
  const child = spawn('ip', ['netns', 'exec', n.hub, process.execPath, '--import', 'tsx', path.join(repoRoot, 'scripts', 'fault-harness.ts'), ...argv, '--seed', String(o.seed), '--inner', n.id], {
    stdio: 'inherit',
    cwd: repoRoot,
  });
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 2 : 0))));
  // Whatever is still inside our namespaces was started by this run.
  for (const pid of netnsPids(n)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  deleteNetns(n);
  return code;
}

// ---------------------------------------------------------------------------------------------
// Inner process: the run.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function mountTmpfs(dir: string, bytes: number): boolean {
  if (process.getuid?.() !== 0) return false;
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0;
}

function buildShim(dir: string): string | null {
  const src = path.join(repoRoot, 'scripts', 'harness', 'slow-fsync.c');
  const out = path.join(dir, 'slow-fsync.so');
  const r = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-o', out, src, '-ldl'], { encoding: 'utf8' });
  return r.status === 0 ? out : null;
}

/** The member that live members name as leader (Maintenance.Status), or null. */
async function leaderIndex(members: Member[]): Promise<number | null> {
  const sts = await Promise.all(members.map((m) => (m.up && !m.paused ? memberStatus(m, 500).catch(() => null) : Promise.resolve(null))));
  const votes = new Map<string, number>();
  for (const s of sts) if (s && s.leader !== '0') votes.set(s.leader, (votes.get(s.leader) ?? 0) + 1);
  const top = [...votes.entries()].sort((a, b) => b[1] - a[1])[0];
  if (top === undefined) return null;
  const i = sts.findIndex((s) => s?.memberId === top[0]);
  return i >= 0 ? i : null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Availability {
  ops: number;
  ok: number;
  writes: number;
  writesOk: number;
}

function availability(records: readonly OpRecord[], faults: readonly FaultRecord[], from: number, to: number): Map<string, Availability> {
  const out = new Map<string, Availability>();
  const sorted = [...faults].sort((a, b) => a.start - b.start);
  for (const r of records) {
    if (r.call < from || r.call > to) continue;
    const f = sorted.find((x) => r.call >= x.start && r.call <= x.end);
    const k = f ? f.kind : 'no fault';
    let a = out.get(k);
    if (!a) out.set(k, (a = { ops: 0, ok: 0, writes: 0, writesOk: 0 }));
    a.ops++;
    if (r.ok) a.ok++;
    if (r.write) {
      a.writes++;
      if (r.ok) a.writesOk++;
    }
  }
  return out;
}

/** The longest stretch without a successful write, with the fault in progress when it began. */
function longestWriteOutage(records: readonly OpRecord[], faults: readonly FaultRecord[], from: number, to: number): { ms: number; at: number; during: string } {
  const ok = records.filter((r) => r.ok && r.write).map((r) => r.ret).sort((a, b) => a - b);
  let best = { ms: 0, at: from };
  let prev = from;
  for (const t of [...ok.filter((x) => x >= from && x <= to), to]) {
    if (t - prev > best.ms) best = { ms: t - prev, at: prev };
    prev = Math.max(prev, t);
  }
  const f = faults.find((x) => best.at >= x.start - 1 && best.at <= x.end);
  return { ...best, during: f ? `${f.kind} ${f.detail}` : 'no fault' };
}

async function inner(o: Options, mode: 'netns' | 'loopback'): Promise<number> {
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const log = (line: string): void => {
    process.stdout.write(`[${(now() / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
  };
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'fault-harness-'));
  const n = o.members;
  const netns: Netns | undefined = mode === 'netns' && o.inner !== null ? netnsNames(o.inner, n) : undefined;
  const diskBytes = 1024 * 1024 * 1024;
  const mounts: string[] = [];
  let tmpfs = true;
  // Only inside the namespaces' own mount namespace (ip netns exec makes one): mounts there
  // vanish with the run, whatever ends it.
  for (let i = 0; i < n; i++) {
    const d = path.join(runDir, `m${i + 1}-disk`);
    if (mode !== 'netns' || !mountTmpfs(d, diskBytes)) {
      tmpfs = false;
      break;
    }
    mounts.push(d);
  }
  const shim = o.target === 'etcdts' ? buildShim(runDir) : null;
  const slowfsCtl = shim ? Array.from({ length: n }, (_, i) => path.join(runDir, `m${i + 1}.slowfs`)) : undefined;
  for (const c of slowfsCtl ?? []) writeFileSync(c, Buffer.alloc(4));

  const possible: Record<FaultKind, string | null> = {
    kill: null,
    pause: null,
    partition: netns ? null : 'needs network namespaces (root and iproute2; --net netns)',
    disk: tmpfs ? null : 'needs a tmpfs per member (root, --net netns)',
    slowfs: o.target !== 'etcdts' ? 'etcdts only (etcd is a Go binary: no libc fsync to delay)' : shim ? null : 'needs gcc to build scripts/harness/slow-fsync.c',
    failpoint: o.target === 'etcdts' ? null : 'etcdts only (etcd needs a gofail build)',
  };
  const wanted = o.faults ?? [...faultKinds];
  const kinds = wanted.filter((k) => possible[k] === null);
  for (const k of wanted) if (possible[k] !== null) log(`fault ${k} left out: ${possible[k]}`);
  if (o.faults !== null && kinds.length < o.faults.length) log('warning: some requested faults are not possible here');

  const ports: { client: number; peer: number }[] = [];
  for (let i = 0; i < n; i++) ports.push(mode === 'netns' ? { client: 2379, peer: 2380 } : { client: await freePort(), peer: await freePort() });
  const host = (i: number): string => (mode === 'netns' ? memberAddress(i) : '127.0.0.1');
  const names = Array.from({ length: n }, (_, i) => `m${i + 1}`);
  const initialCluster = names.map((nm, i) => `${nm}=http://${host(i)}:${ports[i]?.peer}`).join(',');
  const env: Record<string, string> = { UV_USE_IO_URING: '0' };
  const members = names.map((name, i) => {
    const setup = {
      target: o.target,
      index: i,
      name,
      clientUrl: `http://${host(i)}:${ports[i]?.client}`,
      peerUrl: `http://${host(i)}:${ports[i]?.peer}`,
      initialCluster,
      token: `fault-harness-${o.seed}`,
      dataDir: path.join(tmpfs ? (mounts[i] as string) : runDir, `${name}.etcd`),
      netns: netns?.member(i),
      env: shim ? { ...env, LD_PRELOAD: shim, ETCDTS_SLOWFS: (slowfsCtl as string[])[i] as string } : env,
      logFile: path.join(runDir, `${name}.log`),
    };
    return new Member(setup, now);
  });

  const failures: string[] = [];
  const unexpectedExits: string[] = [];
  let stopping = false;
  const restarting = new Set<number>();
  const restart = async (i: number, extraEnv?: Record<string, string>): Promise<void> => {
    const m = members[i] as Member;
    if (m.up) return;
    m.start(extraEnv);
  };
  let nemesisRef: Nemesis | null = null;
  for (const m of members) {
    m.onExit = (mm, r) => {
      // A disk that was full may end a member later (a store that keeps a write error, as
      // LevelDB does): exiting then is right; a supervisor restarts it.
      if (!r.expected && nemesisRef?.hadDiskFault(mm.setup.index) === true && /ENOSPC|no space left/i.test(mm.sinceStart())) {
        r.expected = true;
        r.why = 'disk was full';
      }
      if (r.expected) {
        if (!/^kill -9|^end of run|^restart to arm|^disarm/.test(r.why)) log(`${mm.name} exited with ${r.signal ?? `status ${r.code}`} (${r.why})`);
        return;
      }
      const what = `${mm.name} exited on its own at ${(r.at / 1000).toFixed(1)} s with ${r.signal ?? `status ${r.code}`}${mm.lastWords() ? `; its log ends:\n${mm.lastWords()}` : ''}`;
      unexpectedExits.push(what);
      log(`UNEXPECTED EXIT: ${what}`);
      if (stopping || restarting.has(mm.setup.index)) return;
      // The supervisor: restart it, as systemd would.
      restarting.add(mm.setup.index);
      void sleep(1000).then(() => {
        restarting.delete(mm.setup.index);
        if (!mm.up) mm.start();
      });
    };
  }

  const cleanup = (): void => {
    stopping = true;
    for (const m of members) {
      try {
        m.expectExit('end of run');
        m.proc?.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.on('exit', cleanup);
  process.on('SIGINT', () => {
    cleanup();
    process.exit(2);
  });
  process.on('SIGTERM', () => {
    cleanup();
    process.exit(2);
  });

  const keys = Array.from({ length: o.keys }, (_, i) => `fh/k${i}`);
  log(
    `${o.target}, ${n} members, ${o.durationS} s of faults, seed ${o.seed}, ${o.clients} clients, ${o.keys} keys, faults ${kinds.join(',') || 'none'}, ` +
      `net ${mode}, data on ${tmpfs ? 'tmpfs' : 'disk'}; run dir ${runDir}`,
  );
  for (const m of members) m.start();

  const serves = async (m: Member, deadlineMs: number): Promise<number | null> => {
    const started = now();
    const conn = new KvConn(m);
    try {
      while (now() - started < deadlineMs) {
        try {
          await runOp(conn, keys[0] as string, { f: 'get' }, 2000);
          return now() - started;
        } catch {
          await sleep(200);
        }
      }
      return null;
    } finally {
      conn.close();
    }
  };

  const formed = await Promise.all(members.map((m) => serves(m, 60_000)));
  if (formed.some((x) => x === null)) {
    log(`the cluster did not form: ${members.filter((_, i) => formed[i] === null).map((m) => `${m.name}: ${m.lastWords() || m.tail(600)}`).join('\n')}`);
    cleanup();
    return 2;
  }
  log('cluster serving; load and faults start');

  const workload = new Workload({ clients: o.clients, keys, members, opTimeoutMs: o.opTimeoutMs, thinkMs: o.thinkMs, rand: new SeededRand((o.seed ^ 0x5bd1e995) >>> 0), now });
  const nemesis = new Nemesis({
    kinds,
    members,
    rand: new SeededRand(o.seed),
    now,
    netns,
    diskMounts: tmpfs ? mounts : undefined,
    diskBytes,
    slowfsCtl,
    restart,
    leader: () => leaderIndex(members),
    log,
    faultMs: [o.faultS[0] * 1000, o.faultS[1] * 1000],
    gapMs: [o.gapS[0] * 1000, o.gapS[1] * 1000],
  });
  nemesisRef = nemesis;
  const loadFrom = now();
  workload.start();
  nemesis.start();
  await sleep(o.durationS * 1000);
  await nemesis.stop();
  nemesis.healAll();
  const loadTo = now();
  await workload.stop();
  log(`faults over (${nemesis.faults.length}); ${workload.records.length} operations; healing and checking`);
  stopping = true;
  for (const m of members) if (!m.up) m.start();

  // No member stuck: each serves a linearizable read.
  const recovered = await Promise.all(members.map((m) => serves(m, o.recoverS * 1000)));
  members.forEach((m, i) => {
    if (recovered[i] === null) failures.push(`${m.name} is stuck: no linearizable read within ${o.recoverS} s after healing${m.up ? '' : ' (it is not running)'}; its log ends:\n${m.lastWords() || m.tail(800)}`);
  });
  log(`recovery: ${members.map((m, i) => `${m.name} ${recovered[i] === null ? 'STUCK' : `${((recovered[i] as number) / 1000).toFixed(1)} s`}`).join(', ')}`);

  // The final state through every member, into the history.
  for (const [i, m] of members.entries()) {
    if (recovered[i] === null) continue;
    const conn = new KvConn(m);
    for (const k of keys) {
      const out = await workload.record(-(i + 1), conn, k, { f: 'get' }, 10_000);
      if (out === undefined) failures.push(`${m.name} did not answer the final read of ${k}`);
    }
    conn.close();
  }

  // Convergence: equal HashKV at equal revision.
  let hashes: (HashKvAnswer | null)[] = [];
  const live = members.filter((_, i) => recovered[i] !== null);
  const convergeUntil = now() + 30_000;
  for (;;) {
    hashes = await Promise.all(live.map((m) => hashKv(m).catch(() => null)));
    const revs = new Set(hashes.map((h) => (h ? String(h.revision) : 'none')));
    if (revs.size === 1 && !revs.has('none')) break;
    if (now() > convergeUntil) break;
    await sleep(500);
  }
  const revs = new Set(hashes.map((h) => (h ? String(h.revision) : 'none')));
  const hashSet = new Set(hashes.map((h) => (h ? h.hash : -1)));
  let convergence: string;
  if (revs.size !== 1 || revs.has('none')) {
    convergence = `revisions differ after 30 s: ${live.map((m, i) => `${m.name} ${hashes[i]?.revision ?? 'no answer'}`).join(', ')}`;
    failures.push(`members do not converge: ${convergence}`);
  } else if (hashSet.size !== 1) {
    convergence = `HashKV differs at revision ${[...revs][0]}: ${live.map((m, i) => `${m.name} ${hashes[i]?.hash}`).join(', ')}`;
    failures.push(`members diverge: ${convergence}`);
  } else {
    convergence = `HashKV ${(hashes[0] as HashKvAnswer).hash >>> 0} at revision ${[...revs][0]} on ${live.length}/${n} members`;
  }

  // Durability and exactly-once, from the MVCC history of every member.
  const finalRev = hashes[0]?.revision ?? 0n;
  const histories: (WatchedEvent[] | null)[] = [];
  for (const m of live) {
    try {
      histories.push(await watchHistory(m, 'fh/', finalRev));
    } catch (e) {
      histories.push(null);
      failures.push(`${m.name}: could not read the MVCC history: ${errorText(e)}`);
    }
  }
  let durability = 'not checked';
  const first = histories.find((h) => h !== null);
  if (first) {
    const d = checkDurability(workload.history, first);
    durability = `${d.acknowledged} acknowledged writes, ${d.lost.length ? `${d.lost.length}+ LOST` : 'none lost'}; ${d.events} events; phantom ${d.phantom.length}, applied twice ${d.duplicated.length}`;
    for (const l of d.lost) failures.push(`acknowledged write lost: ${l}`);
    for (const l of d.phantom) failures.push(`write from nowhere: ${l}`);
    for (const l of d.duplicated) failures.push(`applied twice: ${l}`);
    histories.forEach((h, i) => {
      if (h === null || h === first) return;
      const diff = sameEvents(first, h);
      if (diff) failures.push(`MVCC histories differ between ${live[histories.indexOf(first)]?.name} and ${live[i]?.name}: ${diff}`);
    });
  }

  // Linearizability.
  const lin = checkKvHistory(workload.history);
  for (const v of lin.violations) failures.push(v);
  for (const u of unexpectedExits) failures.push(`unexpected exit: ${u}`);

  cleanup();
  await sleep(200);

  // Figures.
  const ops = workload.records.filter((r) => r.call >= loadFrom && r.call <= loadTo);
  const okOps = ops.filter((r) => r.ok).length;
  const byKind = new Map<string, FaultRecord[]>();
  for (const f of nemesis.faults) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f]);
  const avail = availability(ops, nemesis.faults, loadFrom, loadTo);
  const faultTime = nemesis.faults.reduce((s, f) => s + (f.end - f.start), 0);
  const outage = longestWriteOutage(ops, nemesis.faults, loadFrom, loadTo);
  const pct = (a: number, b: number): string => (b === 0 ? '–' : `${((100 * a) / b).toFixed(1)}%`);
  const counts = { get: 0, put: 0, delete: 0, cas: 0, casOk: 0 };
  for (const h of workload.history) {
    counts[h.input.f]++;
    if (h.output?.f === 'cas' && h.output.succeeded) counts.casOk++;
  }
  const ok = failures.length === 0;
  const lines = [
    '',
    `RESULT: ${ok ? 'PASS' : 'FAIL'}  (${o.target}, ${n} members, seed ${o.seed})`,
    `operations: ${ops.length} in ${((loadTo - loadFrom) / 1000).toFixed(0)} s (${(ops.length / ((loadTo - loadFrom) / 1000)).toFixed(0)}/s), ${pct(okOps, ops.length)} ok; in the history ${workload.history.length}: ` +
      `get ${counts.get}, put ${counts.put}, delete ${counts.delete}, cas ${counts.cas} (${counts.casOk} succeeded), ${lin.ambiguous} of unknown outcome`,
    `faults: ${nemesis.faults.length} (${[...byKind.entries()].map(([k, l]) => `${k} ${l.length}`).join(', ') || 'none'}), ${(faultTime / 1000).toFixed(0)} s of ${((loadTo - loadFrom) / 1000).toFixed(0)} s under a fault`,
    `availability (ops ok of ops, writes ok, ok ops/s): ${[...avail.entries()]
      .map(([k, a]) => `${k} ${pct(a.ok, a.ops)} of ${a.ops}, writes ${pct(a.writesOk, a.writes)}, ${(a.ok / Math.max(0.001, (k === 'no fault' ? loadTo - loadFrom - faultTime : (byKind.get(k) ?? []).reduce((x, f) => x + f.end - f.start, 0)) / 1000)).toFixed(0)}/s`)
      .join('; ')}`,
    `longest stretch without a successful write: ${(outage.ms / 1000).toFixed(1)} s at ${(outage.at / 1000).toFixed(1)} s (${outage.during})`,
    `linearizable: ${lin.ok ? 'yes' : lin.inconclusive ? 'UNKNOWN (search budget)' : 'NO'} (${lin.keys} keys, ${lin.ops} operations, ${lin.steps} search steps, ${(lin.ms / 1000).toFixed(1)} s)`,
    `durability: ${durability}`,
    `convergence: ${convergence}`,
    `stuck members: ${recovered.filter((x) => x === null).length ? members.filter((_, i) => recovered[i] === null).map((m) => m.name).join(', ') : 'none'}; unexpected exits: ${unexpectedExits.length}`,
  ];
  if (!ok) {
    lines.push('', `FAILURES (${failures.length}):`);
    for (const f of failures.slice(0, 12)) lines.push(`- ${f.split('\n').join('\n  ')}`);
  }
  lines.push('', `replay: ${replayCommand(o)}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  const figures = {
    result: ok ? 'pass' : 'fail',
    target: o.target,
    members: n,
    seed: o.seed,
    durationS: (loadTo - loadFrom) / 1000,
    ops: ops.length,
    opsOk: okOps,
    history: workload.history.length,
    ambiguous: lin.ambiguous,
    faults: Object.fromEntries([...byKind.entries()].map(([k, l]) => [k, l.length])),
    faultSeconds: faultTime / 1000,
    availability: Object.fromEntries(avail),
    longestWriteOutageS: outage.ms / 1000,
    linearizable: lin.ok,
    checkerSeconds: lin.ms / 1000,
    durability,
    convergence,
    unexpectedExits: unexpectedExits.length,
    failures,
  };
  if (o.json) writeFileSync(o.json, `${JSON.stringify(figures, null, 2)}\n`);
  const jsonSafe = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? String(v) : v);
  writeFileSync(path.join(runDir, 'history.jsonl'), workload.history.map((h: KvOp) => JSON.stringify(h, jsonSafe)).join('\n'));
  writeFileSync(path.join(runDir, 'faults.json'), JSON.stringify(nemesis.faults, null, 1));
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  if (ok && !o.keep) rmSync(runDir, { recursive: true, force: true });
  else process.stdout.write(`logs, history and fault schedule kept in ${runDir}\n`);
  return ok ? 0 : 1;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
  if (o.target === 'etcdts' && !existsSync(path.join(repoRoot, 'dist', 'bin', 'etcdts.js'))) usage('dist/ is missing: run npm run build first');
  let code: number;
  if (o.inner !== null) {
    code = await inner(o, 'netns');
  } else {
    const mode = o.net ?? (netnsUsable() ? 'netns' : 'loopback');
    if (mode === 'netns' && !netnsUsable()) usage('--net netns needs root and iproute2');
    code = mode === 'netns' ? await outer(o, argv.filter((a, i) => !(a === '--seed' || a.startsWith('--seed=') || argv[i - 1] === '--seed'))) : await inner(o, 'loopback');
  }
  process.exit(code);
}

main().catch((e: unknown) => {
  process.stderr.write(`fault-harness failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});

/**
 * Bad-input fuzzer (issue 14): a real three-member cluster on loopback, and member 1 fed
 * - mutated and random protobuf requests to every gRPC method of proto/ (grpc-fuzz.ts),
 * - raw HTTP/2 sessions: bad prefaces, bad frames, HPACK garbage, huge headers, flow-control
 *   violations (h2-raw.ts), and malformed HTTP/1.1 (h2-raw.ts),
 * - peer-port calls with and without a valid identity carrying malformed frames (peer-fuzz.ts),
 * plus flow-control abuse scenarios with the member's memory watched (h2-abuse.ts).
 * After every batch a normal put and get must succeed through member 1 and reads through the
 * others; no member may exit. Every input is made from (seed, input number) alone, so
 * `--replay N` sends input N again, and `--seed S --from F` goes on with inputs F, F+1, … of
 * an earlier run (a long run split into pieces covers the same inputs as one run).
 *
 *   node --import tsx scripts/fuzz.ts --inputs 20000 [--seed S] [--from F] [--only grpc,h2,http1,peer]
 *     [--target etcd] [--no-abuse] [--replay N]
 *
 * Exit status: 0 no failure, 1 a member crashed, stopped serving or its memory ran away,
 * 2 usage or the fuzzer itself failed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ClusterClient, KVClient } from '../src/api/proto.js';
import { SeededRand } from '../src/base/random.js';
import { Member, type Target } from './harness/members.js';
import { grpcInput, hazard, methodTargets, sendGrpc } from './fuzz/grpc-fuzz.js';
import { pingFlood, streamFlood, unaryFlood, zeroWindow } from './fuzz/h2-abuse.js';
import { h2Session, http1Session, runSession } from './fuzz/h2-raw.js';
import { peerSession, type PeerIds } from './fuzz/peer-fuzz.js';
import { FrameKind } from '../src/peer/frames.js';

type Kind = 'grpc' | 'h2' | 'http1' | 'peer';
const allKinds: Kind[] = ['grpc', 'h2', 'http1', 'peer'];
const weights: Record<Kind, number> = { grpc: 0.45, h2: 0.25, http1: 0.1, peer: 0.2 };

interface Options {
  inputs: number;
  /** Number of the first input (inputs from .. from+inputs-1). */
  from: number;
  seed: number;
  target: Target;
  kinds: Kind[];
  batch: number;
  concurrency: number;
  abuse: boolean;
  replay: number | null;
  rssMaxMb: number;
  byMethod: boolean;
  abuseSeconds: number;
}

function usage(msg: string): never {
  process.stderr.write(`fuzz: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { inputs: 20_000, from: 0, seed: Math.floor(Math.random() * 2 ** 31), target: 'etcdts', kinds: allKinds, batch: 250, concurrency: 16, abuse: true, replay: null, rssMaxMb: 1500, byMethod: false, abuseSeconds: 5 };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i] as string;
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const val = (): string => v ?? argv[++i] ?? usage(`${a} needs a value`);
    const num = (): number => {
      const x = Number(val());
      if (!Number.isFinite(x) || x < 0) usage(`${a} needs a number`);
      return x;
    };
    switch (a) {
      case '--inputs':
        o.inputs = num();
        break;
      case '--from':
        o.from = Math.floor(num());
        break;
      case '--seed':
        o.seed = num() >>> 0;
        break;
      case '--target': {
        const t = val();
        if (t !== 'etcdts' && t !== 'etcd') usage('--target is etcdts or etcd');
        o.target = t;
        break;
      }
      case '--only': {
        const ks = val().split(',');
        for (const k of ks) if (!(allKinds as string[]).includes(k)) usage(`unknown kind ${k}`);
        o.kinds = ks as Kind[];
        break;
      }
      case '--batch':
        o.batch = Math.max(1, num());
        break;
      case '--concurrency':
        o.concurrency = Math.max(1, num());
        break;
      case '--abuse-seconds':
        o.abuseSeconds = num();
        break;
      case '--by-method':
        o.byMethod = true;
        break;
      case '--no-abuse':
        o.abuse = false;
        break;
      case '--replay':
        o.replay = num();
        break;
      case '--rss-max-mb':
        o.rssMaxMb = num();
        break;
      default:
        usage(`unknown flag ${a}`);
    }
  }
  return o;
}

/** The generator of input n: it depends on (seed, n) alone. */
function inputRand(seed: number, n: number): SeededRand {
  return new SeededRand((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(n + 1, 0xc2b2ae35)) >>> 0);
}

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

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Unary = (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void;

function unary<T>(c: grpc.Client, method: string, req: unknown, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    ((c as unknown as Record<string, Unary>)[method] as Unary).call(c, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r as T)));
  });
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const kinds = o.target === 'etcd' ? o.kinds.filter((k) => k !== 'peer') : o.kinds;
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const log = (s: string): void => void process.stdout.write(`[${(now() / 1000).toFixed(1).padStart(6)}s] ${s}\n`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fuzz-'));
  const n = 3;
  const ports: { client: number; peer: number }[] = [];
  const seen = new Set<number>();
  while (ports.length < n) {
    const c = await freePort();
    const p = await freePort();
    if (c === p || seen.has(c) || seen.has(p)) continue;
    seen.add(c).add(p);
    ports.push({ client: c, peer: p });
  }
  const names = ['f1', 'f2', 'f3'];
  const initialCluster = names.map((nm, i) => `${nm}=http://127.0.0.1:${ports[i]?.peer}`).join(',');
  const members = names.map(
    (name, i) =>
      new Member(
        {
          target: o.target,
          index: i,
          name,
          clientUrl: `http://127.0.0.1:${ports[i]?.client}`,
          peerUrl: `http://127.0.0.1:${ports[i]?.peer}`,
          initialCluster,
          token: `fuzz-${o.seed}`,
          dataDir: path.join(dir, `${name}.etcd`),
          env: {},
          logFile: path.join(dir, `${name}.log`),
        },
        now,
      ),
  );
  const exits: string[] = [];
  let ending = false;
  for (const m of members) {
    m.onExit = (mm, r) => {
      if (ending) return;
      exits.push(`${mm.name} exited with ${r.signal ?? `status ${r.code}`}${mm.lastWords() ? `; its log ends:\n${mm.lastWords()}` : ''}`);
    };
    m.start();
  }
  const stopAll = (): void => {
    ending = true;
    for (const m of members) {
      m.expectExit('end');
      m.proc?.kill('SIGKILL');
    }
  };
  process.on('exit', stopAll);
  process.on('SIGINT', () => process.exit(2));
  process.on('SIGTERM', () => process.exit(2));

  const m1 = members[0] as Member;
  const kvs = members.map((m) => new KVClient(m.endpoint, grpc.credentials.createInsecure()) as unknown as grpc.Client);
  const cluster = new ClusterClient(m1.endpoint, grpc.credentials.createInsecure()) as unknown as grpc.Client;
  // Liveness: a put and a linearizable get through member 1, reads through the others.
  let probe = 0;
  const live = async (deadlineMs: number): Promise<string | null> => {
    const until = now() + deadlineMs;
    let last = '';
    while (now() < until) {
      if (exits.length) return exits.join('\n');
      try {
        const k = Buffer.from(`fuzz-live/${probe++}`);
        await unary(kvs[0] as grpc.Client, 'Put', { key: k, value: k }, 3000);
        const got = await unary<{ kvs: { value: Buffer }[] }>(kvs[0] as grpc.Client, 'Range', { key: k }, 3000);
        if (got.kvs[0]?.value.toString() !== k.toString()) return `member 1 lost a put it acknowledged: ${k.toString()}`;
        for (const c of kvs.slice(1)) await unary(c, 'Range', { key: k }, 3000);
        return null;
      } catch (e) {
        last = String((e as { details?: string }).details ?? e);
        await sleep(200);
      }
    }
    return `the cluster does not serve a put/get through member 1 within ${deadlineMs / 1000} s: ${last}`;
  };
  const formed = await live(60_000);
  if (formed !== null) {
    log(`the cluster did not form: ${formed}`);
    stopAll();
    return 2;
  }
  const ml = await unary<{ header: { cluster_id: string; member_id: string }; members: { ID: string }[] }>(cluster, 'MemberList', {}, 5000);
  const memberIds = ml.members.map((m) => BigInt(m.ID));
  const ids: PeerIds = { clusterId: BigInt(ml.header.cluster_id), target: BigInt(ml.header.member_id), others: memberIds.filter((x) => x !== BigInt(ml.header.member_id)) };
  const targets = methodTargets();
  const grpcClient = new grpc.Client(m1.endpoint, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.use_local_subchannel_pool': 1 });
  const peerPort = ports[0]?.peer as number;
  const clientPort = ports[0]?.client as number;
  log(`${o.target}: 3 members, fuzzing ${m1.name} (${m1.endpoint}, peer :${ports[0]?.peer}); seed ${o.seed}, ${o.inputs} inputs${o.from > 0 ? ` from input ${o.from}` : ''} of ${kinds.join(', ')}; ${targets.length} gRPC methods; logs in ${dir}`);

  const counts = new Map<string, number>();
  /** The first input that made each count, for --replay. */
  const example = new Map<string, number>();
  const bumpAll = (k: string, by = 1, input = -1): void => {
    counts.set(k, (counts.get(k) ?? 0) + by);
    if (!example.has(k) && input >= 0) example.set(k, input);
  };
  const failures: string[] = [];
  let rssMax = rssMb(m1.proc?.pid);
  const rssStart = rssMax;

  const kindOf = (r: SeededRand): Kind => {
    let x = r.next() * kinds.reduce((s, k) => s + weights[k], 0);
    for (const k of kinds) {
      x -= weights[k];
      if (x < 0) return k;
    }
    return kinds[kinds.length - 1] as Kind;
  };

  const one = async (i: number): Promise<void> => {
    const r = inputRand(o.seed, i);
    const bump = (k: string, by = 1): void => bumpAll(k, by, i);
    const kind = kindOf(r);
    bump(`inputs ${kind}`);
    switch (kind) {
      case 'grpc': {
        const input = grpcInput(r, targets);
        const why = hazard(input, targets, memberIds, o.target);
        if (why !== null) {
          bump(`grpc skipped (${why})`);
          return;
        }
        const out = await sendGrpc(grpcClient, input, input.method.requestStream || input.method.responseStream ? 1000 : 3000);
        bump(`grpc code ${grpc.status[out.code] ?? out.code}`);
        if (o.byMethod) bump(`grpc ${input.method.path} ${grpc.status[out.code] ?? out.code}${out.code === 0 ? '' : `: ${out.details.slice(0, 70)}`}`);
        if (out.code === grpc.status.INTERNAL && /RST_STREAM|Protocol error|Received HTTP status/i.test(out.details)) bump(`grpc transport-level INTERNAL: ${out.details.slice(0, 60)}`);
        if (out.code === grpc.status.UNAVAILABLE) bump(`grpc UNAVAILABLE: ${out.details.slice(0, 60)}`);
        return;
      }
      case 'h2': {
        const res = await runSession(r, '127.0.0.1', clientPort, h2Session(r));
        bump(res.closedByServer ? 'h2 session closed by the server' : 'h2 session timed out (server kept it open)');
        return;
      }
      case 'http1': {
        const res = await runSession(r, '127.0.0.1', clientPort, http1Session(r));
        bump(res.received > 0 ? 'http1 answered' : 'http1 no answer');
        return;
      }
      case 'peer': {
        const ses = peerSession(r, ids);
        if (ses.rewritten) bump('peer frames readdressed (forged but well-formed)', ses.rewritten);
        const res = await runSession(r, '127.0.0.1', peerPort, ses.data);
        const answer = res.head.length >= 5 ? (res.head[4] === FrameKind.Accept ? 'ACCEPT' : res.head[4] === FrameKind.Refuse ? 'REFUSE' : res.head[4] === FrameKind.Reply ? 'REPLY' : `frame ${res.head[4]}`) : 'nothing';
        bump(`peer ${ses.identity} → ${answer}${res.closedByServer ? '' : ' (left open)'}`);
        return;
      }
    }
  };

  const abuse = async (when: string): Promise<void> => {
    if (o.target !== 'etcdts' && o.target !== 'etcd') return;
    const pid = m1.proc?.pid;
    const before = rssMb(pid);
    const u = await unaryFlood('127.0.0.1', clientPort, o.abuseSeconds);
    const afterU = rssMb(pid);
    log(`abuse (${when}) unary call fed DATA for ${o.abuseSeconds} s: the server took ${(u.accepted / 1e6).toFixed(1)} MB${u.closed ? ' then closed/reset' : ''}; member RSS ${before.toFixed(0)} → ${afterU.toFixed(0)} MB`);
    counts.set('abuse unary flood MB taken (max)', Math.max(counts.get('abuse unary flood MB taken (max)') ?? 0, Math.round(u.accepted / 1e6)));
    if (afterU - before > 200) log(`  ↑ known issue (test/unit/rpc/h2-fuzz-findings.test.ts, it.fails): a unary call's extra request messages are all kept; one connection grew member 1 by ${(afterU - before).toFixed(0)} MB`);
    if (u.accepted > 256 * 1024 * 1024) failures.push(`a unary call that never ends its request made member 1 take ${(u.accepted / 1e6).toFixed(0)} MB of DATA in ${o.abuseSeconds} s (grpc-go stops granting window once the one message is read); RSS ${before.toFixed(0)} → ${afterU.toFixed(0)} MB`);
    await sleep(1000);
    const b2 = rssMb(pid);
    const p = await pingFlood('127.0.0.1', clientPort, 2_000_000);
    const a2 = rssMb(pid);
    log(`abuse (${when}) ${p.sent} PINGs never read: member RSS ${b2.toFixed(0)} → ${a2.toFixed(0)} MB${p.closed ? ' (connection closed by the server)' : ''}`);
    const b3 = rssMb(pid);
    const sf = await streamFlood('127.0.0.1', clientPort, 20_000);
    const a3 = rssMb(pid);
    sf.end();
    log(`abuse (${when}) ${sf.opened} Watch streams opened and left: member RSS ${b3.toFixed(0)} → ${a3.toFixed(0)} MB${sf.closed ? ' (closed by the server)' : ''}`);
    const b4 = rssMb(pid);
    const zw = await zeroWindow('127.0.0.1', clientPort, 2000);
    const a4 = rssMb(pid);
    zw.end();
    log(`abuse (${when}) ${zw.calls} Range-all calls with no window to answer in: member RSS ${b4.toFixed(0)} → ${a4.toFixed(0)} MB`);
    const err = await live(30_000);
    if (err !== null) failures.push(`after the abuse scenarios (${when}): ${err}`);
  };

  if (o.replay !== null) {
    log(`replaying input ${o.replay}`);
    await one(o.replay);
    for (const [k, v] of counts) if (!k.startsWith('inputs ')) log(`${k}: ${v}`);
    const err = await live(20_000);
    log(err === null ? 'member still serves' : `FAILED: ${err}`);
    stopAll();
    return err === null ? 0 : 1;
  }

  if (o.abuse) await abuse('start');
  let done = 0;
  let lastLog = now();
  for (let b = 0; done < o.inputs && failures.length === 0; b++) {
    const from = o.from + done;
    const to = o.from + Math.min(o.inputs, done + o.batch);
    let next = from;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < to) {
          const i = next++;
          try {
            await one(i);
          } catch (e) {
            bumpAll(`fuzzer error: ${String(e).slice(0, 80)}`, 1, i);
          }
        }
      }),
    );
    done = to - o.from;
    const err = await live(20_000);
    const rss = rssMb(m1.proc?.pid);
    rssMax = Math.max(rssMax, rss);
    if (err !== null) failures.push(`after inputs ${from}..${to - 1} (replay each with --seed ${o.seed} --replay N): ${err}`);
    if (rss > o.rssMaxMb) failures.push(`member 1 RSS ${rss.toFixed(0)} MB after inputs ${from}..${to - 1} (limit ${o.rssMaxMb})`);
    if (now() - lastLog > 15_000 || done === o.inputs) {
      lastLog = now();
      log(`${done}/${o.inputs} inputs (up to input ${o.from + done - 1}), member 1 RSS ${rss.toFixed(0)} MB, ${(done / (now() / 1000)).toFixed(0)} inputs/s`);
    }
  }
  if (o.abuse && failures.length === 0 && o.inputs >= 100_000) await abuse('end');
  if (exits.length) failures.push(...exits);

  const lines = ['', `RESULT: ${failures.length === 0 ? 'PASS' : 'FAIL'}  (${o.target}, seed ${o.seed}, ${done} inputs${o.from > 0 ? ` from input ${o.from}` : ''} in ${(now() / 1000).toFixed(0)} s)`];
  lines.push(`member 1 RSS: ${rssStart.toFixed(0)} MB at start, max ${rssMax.toFixed(0)} MB`);
  for (const [k, v] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) lines.push(`  ${k}: ${v}${o.byMethod && example.has(k) ? ` (e.g. input ${example.get(k)})` : ''}`);
  if (failures.length) {
    lines.push('', 'FAILURES:');
    for (const f of failures) lines.push(`- ${f}`);
  }
  lines.push('', `replay: node --import tsx scripts/fuzz.ts --seed ${o.seed}${o.from > 0 ? ` --from ${o.from}` : ''} --inputs ${o.inputs}${o.target === 'etcd' ? ' --target etcd' : ''}${o.kinds.length < allKinds.length ? ` --only ${o.kinds.join(',')}` : ''}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  grpcClient.close();
  stopAll();
  if (failures.length === 0) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`member logs kept in ${dir}\n`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`fuzz failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);

/**
 * `check perf` (etcdctl check.go, 3.4.23): a 60-second write load at the model's rate (s: 150
 * puts/s from 50 clients, m: 1000/200, l: 8000/500, xl: 15000/1000), each client its own
 * connection, each put a 256-byte key (a random varint in a zeroed buffer) under --prefix and a
 * 1 KiB zero value, paced by a token bucket of one token. It refuses to run when the prefix
 * already has keys, deletes them afterwards (then --auto-compact / --auto-defrag), and judges
 * as etcdctl does: no errors, throughput above 90 % of the rate, slowest request ≤ 0.5 s,
 * standard deviation ≤ 0.1 s; each verdict a PASS/FAIL line, then PASS, or FAIL and exit 1.
 * A progress bar is drawn only when stdout is a terminal.
 *
 * ETCDTS_TEST_CHECK_PERF_SECONDS shortens the 60 s (tests only).
 */
import { prefixEnd } from '../../base/bytes.js';
import type { EtcdClient } from '../../client/client.js';
import { ClientError } from '../../client/errors.js';
import type { Command, RunContext } from '../command.js';
import { goQuote } from '../go-format.js';
import { nodeCrypto } from '../builtins.js';
import { CliExit, ExitCode } from '../output.js';
import { clientTls } from '../tls-files.js';

interface PerfModel {
  limit: number;
  clients: number;
  duration: number;
}

const models: Record<string, PerfModel> = {
  s: { limit: 150, clients: 50, duration: 60 },
  m: { limit: 1000, clients: 200, duration: 60 },
  l: { limit: 8000, clients: 500, duration: 60 },
  xl: { limit: 15000, clients: 1000, duration: 60 },
};
const aliases: Record<string, string> = { s: 's', small: 's', m: 'm', medium: 'm', l: 'l', large: 'l', xl: 'xl', xLarge: 'xl' };

/** Go's binary.PutVarint (zig-zag) into the front of a zeroed buffer. */
function putVarint(buf: Buffer, v: bigint): void {
  let u = v >= 0n ? v << 1n : (-v << 1n) - 1n;
  let i = 0;
  while (u >= 0x80n) {
    buf[i++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[i] = Number(u);
}

/** A random Go rand.Int63n(MaxInt64) as a varint in the front of a zeroed buffer of `size` bytes. */
function randomKey(size: number): Buffer {
  const k = Buffer.alloc(size);
  putVarint(k, BigInt(`0x${nodeCrypto().randomBytes(8).toString('hex')}`) & 0x7fff_ffff_ffff_ffffn);
  return k;
}

/**
 * --auto-compact and --auto-defrag after a check, with etcdctl's util.go compact()/defrag() lines
 * (a physical compaction; each endpoint defragmented in turn).
 */
async function compactAndDefrag(ctx: RunContext, main: EtcdClient, revision: bigint, endpoints: string[]): Promise<void> {
  if (ctx.flags.bool('auto-compact')) {
    ctx.out.stdout(`Compacting with revision ${revision}\n`);
    await main.compact({ revision, physical: true });
    ctx.out.stdout(`Compacted with revision ${revision}\n`);
  }
  if (ctx.flags.bool('auto-defrag')) {
    for (const ep of endpoints) {
      ctx.out.stdout(`Defragmenting ${goQuote(ep)}\n`);
      await ctx.clientFor(ep).defragment();
      ctx.out.stdout(`Defragmented ${goQuote(ep)}\n`);
    }
  }
}

/** Go's %f. */
function f6(x: number): string {
  return x.toFixed(6);
}

const checkPerfCommand: Command = {
  name: 'perf',
  use: '[options]',
  short: 'Check the performance of the etcd cluster',
  flags: [
    { name: 'load', kind: 'string', def: 's', usage: "The performance check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)" },
    { name: 'prefix', kind: 'string', def: '/etcdctl-check-perf/', usage: "The prefix for writing the performance check's keys." },
    { name: 'auto-compact', kind: 'bool', def: 'false', usage: 'Compact storage with last revision after test is finished.' },
    { name: 'auto-defrag', kind: 'bool', def: 'false', usage: 'Defragment storage after test is finished.' },
  ],
  async run(ctx) {
    const load = ctx.flags.str('load');
    const name = aliases[load];
    if (name === undefined) throw new CliExit(ExitCode.BadFeature, `unknown load option ${load}`);
    const base = models[name] as PerfModel;
    const testSeconds = Number(process.env.ETCDTS_TEST_CHECK_PERF_SECONDS ?? '');
    const cfg = { ...base, duration: testSeconds > 0 ? testSeconds : base.duration };
    const prefix = Buffer.from(ctx.flags.str('prefix'), 'latin1');
    const main = await ctx.client();
    const endpoints = await ctx.endpoints();
    const clients: EtcdClient[] = [main];
    // Each client its own connection (etcdctl: cc.mustClient() per client), spread over the endpoints.
    for (let i = 1; i < cfg.clients; i++) clients.push(ctx.clientFor(endpoints[i % endpoints.length] as string));
    const range = { key: prefix, range_end: Buffer.from(prefixEnd(prefix)) };
    const existing = await main.range({ ...range, limit: 1n });
    if (existing.resp.kvs.length > 0) {
      const p = prefix.toString('latin1');
      throw new CliExit(ExitCode.InvalidInput, `prefix ${goQuote(p)} has keys. Delete with etcdctl del --prefix ${p} first`);
    }
    const value = Buffer.alloc(1024);
    const latencies: number[] = [];
    const errors = new Map<string, number>();
    const start = performance.now();
    const end = start + cfg.duration * 1000;
    const tty = process.stdout.isTTY === true;
    let shown = 0;
    const bar = tty
      ? setInterval(() => {
          shown = Math.min(cfg.duration, shown + 1);
          const width = 40;
          const done = Math.round((shown / cfg.duration) * width);
          ctx.out.stdout(`\r${String(shown).padStart(String(cfg.duration).length)} / ${cfg.duration} B${'o'.repeat(Math.max(0, done - 1))}${done > 0 ? 'm' : ''}${' '.repeat(width - done)}! ${((shown / cfg.duration) * 100).toFixed(2)}%`);
          if (shown === cfg.duration) ctx.out.stdout('\n');
        }, 1000)
      : null;
    // Token bucket of one token at `limit` per second: the next put may start at `next`.
    let next = start;
    const queue: Buffer[] = [];
    let producing = true;
    let wake: (() => void)[] = [];
    const producer = (async () => {
      for (;;) {
        const now = performance.now();
        if (next > now) await new Promise((r) => setTimeout(r, next - now));
        if (performance.now() >= end) break;
        next = Math.max(next + 1000 / cfg.limit, performance.now() - 1000 / cfg.limit);
        queue.push(Buffer.concat([prefix, randomKey(256)]));
        const w = wake.shift();
        w?.();
      }
      producing = false;
      for (const w of wake.splice(0)) w();
    })();
    const worker = async (c: EtcdClient): Promise<void> => {
      for (;;) {
        const key = queue.shift();
        if (key === undefined) {
          if (!producing) return;
          await new Promise<void>((r) => wake.push(r));
          continue;
        }
        const t0 = performance.now();
        try {
          await c.put({ key, value });
          latencies.push((performance.now() - t0) / 1000);
        } catch (e) {
          const msg = e instanceof ClientError ? e.message : e instanceof Error ? e.message : String(e);
          errors.set(msg, (errors.get(msg) ?? 0) + 1);
        }
      }
    };
    await Promise.all([producer, ...clients.map(worker)]);
    const total = (performance.now() - start) / 1000;
    if (bar) {
      clearInterval(bar);
      if (shown < cfg.duration) ctx.out.stdout('\n');
    }
    const del = await main.deleteRange(range);
    await compactAndDefrag(ctx, main, del.resp.header.revision, endpoints);
    const n = latencies.length;
    const mean = n > 0 ? latencies.reduce((a, b) => a + b, 0) / n : 0;
    const stddev = n > 0 ? Math.sqrt(latencies.reduce((a, b) => a + (b - mean) ** 2, 0) / n) : 0;
    const slowest = n > 0 ? Math.max(...latencies) : 0;
    const rps = n / total;
    let ok = true;
    if (errors.size > 0) {
      ctx.out.stdout('FAIL: too many errors\n');
      for (const [k, v] of errors) ctx.out.stdout(`FAIL: ERROR(${k}) -> ${v}\n`);
      ok = false;
    }
    if (rps / cfg.limit <= 0.9) {
      ctx.out.stdout(`FAIL: Throughput too low: ${Math.trunc(rps) + 1} writes/s\n`);
      ok = false;
    } else ctx.out.stdout(`PASS: Throughput is ${Math.trunc(rps) + 1} writes/s\n`);
    if (slowest > 0.5) {
      ctx.out.stdout(`Slowest request took too long: ${f6(slowest)}s\n`);
      ok = false;
    } else ctx.out.stdout(`PASS: Slowest request took ${f6(slowest)}s\n`);
    if (stddev > 0.1) {
      ctx.out.stdout(`Stddev too high: ${f6(stddev)}s\n`);
      ok = false;
    } else ctx.out.stdout(`PASS: Stddev is ${f6(stddev)}s\n`);
    if (ok) {
      ctx.out.stdout('PASS\n');
      return;
    }
    ctx.out.stdout('FAIL\n');
    throw new CliExit(ExitCode.Error, '', { raw: true });
  },
};

interface DatascaleModel {
  limit: number;
  kvSize: number;
  clients: number;
}

const datascaleModels: Record<string, DatascaleModel> = {
  s: { limit: 10_000, kvSize: 1024, clients: 50 },
  m: { limit: 100_000, kvSize: 1024, clients: 200 },
  l: { limit: 1_000_000, kvSize: 1024, clients: 500 },
  // etcd: xl aims at the upper bound, 3 versions of 1M objects.
  xl: { limit: 3_000_000, kvSize: 1024, clients: 1000 },
};

const residentMemoryKey = 'process_resident_memory_bytes';

/**
 * etcdctl's endpointMemoryMetrics: GET <endpoint>/metrics (http:// when the endpoint names no
 * scheme) and the value of the first line starting with process_resident_memory_bytes; 0 after
 * printing why when that fails. Over https it presents --cert/--key and trusts --cacert (etcdctl
 * itself uses the system roots here, so a private CA needs --insecure-skip-tls-verify with it).
 */
async function endpointMemoryMetrics(ctx: RunContext, endpoint: string): Promise<number> {
  const host = endpoint.startsWith('http://') || endpoint.startsWith('https://') ? endpoint : `http://${endpoint}`;
  const url = `${host}/metrics`;
  let body: string;
  try {
    body = await new Promise<string>((resolve, reject) => {
      const onResponse = (res: import('node:http').IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      };
      const started = url.startsWith('https://')
        ? import('node:https').then((https) => {
            const t = clientTls({
              cert: ctx.flags.str('cert'),
              key: ctx.flags.str('key'),
              cacert: ctx.flags.str('cacert'),
              insecureTransport: false,
              skipVerify: ctx.flags.bool('insecure-skip-tls-verify'),
            });
            return https.get(url, { ca: t?.ca, cert: t?.cert, key: t?.key, rejectUnauthorized: t?.skipVerify !== true }, onResponse);
          })
        : import('node:http').then((http) => http.get(url, onResponse));
      void started.then((req) => {
        req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      }, reject);
    });
  } catch (e) {
    ctx.out.stdout(`fetch error: Get ${goQuote(url)}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 0;
  }
  const line = body.split('\n').find((l) => l.startsWith(residentMemoryKey));
  const text = line === undefined ? '' : line.slice(residentMemoryKey.length).trim();
  if (text === '') {
    ctx.out.stdout(`could not find: ${residentMemoryKey}\n`);
    return 0;
  }
  const v = Number(text);
  if (!Number.isFinite(v)) {
    ctx.out.stdout(`parse error: strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax\n`);
    return 0;
  }
  return v;
}

/**
 * `check datascale` (etcdctl check.go, 3.4.23): puts the model's number of key-value pairs (s:
 * 10k from 50 clients, m: 100k/200, l: 1M/500, xl: 3M/1000; each a 512-byte key — a random
 * varint in a zeroed buffer — under --prefix and a 512-byte zero value, as fast as the clients
 * go), reading the server's resident memory from its /metrics before and after, then deletes the
 * keys (and --auto-compact / --auto-defrag) and reports `PASS: Approximate system memory used :
 * N MB.`, or FAIL with the errors. The progress count is drawn only on a terminal.
 */
const checkDatascaleCommand: Command = {
  name: 'datascale',
  use: '[options]',
  short: 'Check the memory usage of holding data for different workloads on a given server endpoint.',
  long: 'If no endpoint is provided, localhost will be used. If multiple endpoints are provided, first endpoint will be used.',
  flags: [
    { name: 'load', kind: 'string', def: 's', usage: "The datascale check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)" },
    { name: 'prefix', kind: 'string', def: '/etcdctl-check-datascale/', usage: "The prefix for writing the datascale check's keys." },
    { name: 'auto-compact', kind: 'bool', def: 'false', usage: 'Compact storage with last revision after test is finished.' },
    { name: 'auto-defrag', kind: 'bool', def: 'false', usage: 'Defragment storage after test is finished.' },
  ],
  async run(ctx) {
    const load = ctx.flags.str('load');
    const name = aliases[load];
    if (name === undefined) throw new CliExit(ExitCode.BadFeature, `unknown load option ${load}`);
    const base = datascaleModels[name] as DatascaleModel;
    // ETCDTS_TEST_CHECK_DATASCALE_KEYS shrinks the model (tests only).
    const testKeys = Number(process.env.ETCDTS_TEST_CHECK_DATASCALE_KEYS ?? '');
    const cfg = { ...base, limit: testKeys > 0 ? testKeys : base.limit };
    const prefix = Buffer.from(ctx.flags.str('prefix'), 'latin1');
    const main = await ctx.client();
    const endpoints = await ctx.endpoints();
    const clients: EtcdClient[] = [main];
    for (let i = 1; i < cfg.clients; i++) clients.push(ctx.clientFor(endpoints[i % endpoints.length] as string));
    const range = { key: prefix, range_end: Buffer.from(prefixEnd(prefix)) };
    const existing = await main.range({ ...range, limit: 1n });
    if (existing.resp.kvs.length > 0) {
      const p = prefix.toString('latin1');
      throw new CliExit(ExitCode.InvalidInput, `prefix ${goQuote(p)} has keys. Delete with etcdctl del --prefix ${p} first`);
    }
    const first = endpoints[0] as string;
    const failNoMemory = (when: string): never => {
      ctx.out.stdout(`FAIL: Could not read process_resident_memory_bytes ${when} the put operations.\n`);
      throw new CliExit(ExitCode.Error, '', { raw: true });
    };
    const bytesBefore = await endpointMemoryMetrics(ctx, first);
    if (bytesBefore === 0) failNoMemory('before');
    ctx.out.stdout(`Start data scale check for work load [${cfg.limit} key-value pairs, ${cfg.kvSize} bytes per key-value, ${cfg.clients} concurrent clients].\n`);
    const tty = process.stdout.isTTY === true;
    let done = 0;
    let drawnAt = 0;
    const draw = (force: boolean): void => {
      if (!tty) return;
      const now = performance.now();
      if (!force && now - drawnAt < 100) return;
      drawnAt = now;
      ctx.out.stdout(`\r${String(done).padStart(String(cfg.limit).length)} / ${cfg.limit} ${((done / cfg.limit) * 100).toFixed(2).padStart(6)}%`);
    };
    draw(true);
    const value = Buffer.alloc(512);
    const errors = new Map<string, number>();
    let issued = 0;
    const worker = async (c: EtcdClient): Promise<void> => {
      while (issued < cfg.limit) {
        issued++;
        try {
          await c.put({ key: Buffer.concat([prefix, randomKey(512)]), value });
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          errors.set(msg, (errors.get(msg) ?? 0) + 1);
        }
        done++;
        draw(false);
      }
    };
    await Promise.all(clients.map(worker));
    if (tty) {
      draw(true);
      ctx.out.stdout('\n');
    }
    const bytesAfter = await endpointMemoryMetrics(ctx, first);
    if (bytesAfter === 0) failNoMemory('after');
    const del = await main.deleteRange(range);
    await compactAndDefrag(ctx, main, del.resp.header.revision, endpoints);
    const mbUsed = (bytesAfter - bytesBefore) / (1024 * 1024);
    if (errors.size > 0) {
      ctx.out.stdout('FAIL: too many errors\n');
      for (const [k, v] of errors) ctx.out.stdout(`FAIL: ERROR(${k}) -> ${v}\n`);
      throw new CliExit(ExitCode.Error, '', { raw: true });
    }
    ctx.out.stdout(`PASS: Approximate system memory used : ${mbUsed.toFixed(2)} MB.\n`);
  },
};

export const checkCommand: Command = {
  name: 'check',
  use: '<subcommand>',
  short: 'commands for checking properties of the etcd cluster',
  children: [checkPerfCommand, checkDatascaleCommand],
};

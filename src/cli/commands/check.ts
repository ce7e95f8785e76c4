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
import { randomBytes } from 'node:crypto';
import { prefixEnd } from '../../base/bytes.js';
import type { EtcdClient } from '../../client/client.js';
import { ClientError } from '../../client/errors.js';
import type { Command } from '../command.js';
import { goQuote } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';

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
        const k = Buffer.alloc(256);
        putVarint(k, BigInt(`0x${randomBytes(8).toString('hex')}`) & 0x7fff_ffff_ffff_ffffn);
        queue.push(Buffer.concat([prefix, k]));
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
    if (ctx.flags.bool('auto-compact')) {
      await main.compact({ revision: del.resp.header.revision, physical: false });
      ctx.out.stdout(`compacted revision ${del.resp.header.revision}\n`);
    }
    if (ctx.flags.bool('auto-defrag')) {
      for (const ep of endpoints) {
        await ctx.clientFor(ep).defragment();
        ctx.out.stdout(`Finished defragmenting etcd member[${ep}]\n`);
      }
    }
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

export const checkCommand: Command = {
  name: 'check',
  use: '<subcommand>',
  short: 'commands for checking properties of the etcd cluster',
  children: [checkPerfCommand],
};

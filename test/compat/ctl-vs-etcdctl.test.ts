/**
 * ctl against the real etcdctl 3.4.23, both talking to a real etcd: two etcd members started
 * with the same name, advertised peer and client URLs (so the same member and cluster ids), fed
 * the same command sequence — etcdctl against one, ctl against the other. Every command must give
 * the same stdout, stderr and exit code. Masked: timings (`took`), the random part of clientv3's
 * retry-warning lines (timestamp, client uuid), the client port each tool was given, and DB
 * sizes. Run ctl from source (tsx), so no build is needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  hasEtcd,
  hasEtcdctl,
  inCI,
  killAll,
  repoRoot,
  run,
  startMember,
  type MemberProc,
  type RunResult,
} from '../helpers/procs.js';

const missing = !hasEtcd || !hasEtcdctl;
if (missing && inCI) throw new Error('compat tests need etcd and etcdctl under CI (apt-get install etcd-server etcd-client)');

const sameIds = [
  '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
  '--initial-cluster', 'default=http://127.0.0.1:2380',
  '--advertise-client-urls', 'http://127.0.0.1:2379',
];

function ctlRun(endpoint: string, args: string[], input?: string, env?: Record<string, string>): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', `${repoRoot}/src/cli/main.ts`, `--endpoints=${endpoint}`, ...args], { input, env });
}

function etcdctlRun(endpoint: string, args: string[], input?: string, env?: Record<string, string>): Promise<RunResult> {
  return run('etcdctl', [`--endpoints=${endpoint}`, ...args], { input, env });
}

function mask(r: RunResult, m: MemberProc): RunResult {
  const port = m.endpoint.split(':')[1] as string;
  const clean = (s: string): string =>
    s
      .replaceAll(`127.0.0.1:${port}`, '127.0.0.1:<port>')
      .replace(/"ts":"[^"]*"/g, '"ts":<ts>')
      .replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} ([A-Z]) \|/gm, '<time> $1 |')
      .replace(/client-[0-9a-f-]{36}/g, 'client-<uuid>')
      .replace(/took = [0-9.]+[µnm]?s/g, 'took = <t>')
      .replace(/"took":"[^"]*"/g, '"took":<t>')
      .replace(/ [0-9.]+[µnm]?s \|/g, ' <t> |')
      .replace(/"Took" : [0-9.]+[µnm]?s/g, '"Took" : <t>')
      .replace(/\b\d+(\.\d)? kB\b/g, '<size>')
      .replace(/"(dbSize|dbSizeInUse)":\d+/g, '"$1":<n>')
      .replace(/"DBSize" : \d+/g, '"DBSize" : <n>');
  return { stdout: clean(r.stdout), stderr: clean(r.stderr), code: r.code };
}

/** Tables whose cell widths follow a timing or a size: compare their shape, not their padding. */
function squash(r: RunResult): RunResult {
  return { ...r, stdout: r.stdout.replace(/-+/g, '-').replace(/ +/g, ' ') };
}

describe.skipIf(missing)(
  `ctl prints what etcdctl 3.4.23 prints against a real etcd${missing ? ' (SKIPPED: etcd and/or etcdctl not installed; apt-get install etcd-server etcd-client)' : ''}`,
  () => {
    let forEtcdctl: MemberProc;
    let forCtl: MemberProc;

    beforeAll(async () => {
      [forEtcdctl, forCtl] = await Promise.all([
        startMember({ kind: 'etcd', args: sameIds }),
        startMember({ kind: 'etcd', args: sameIds }),
      ]);
    });
    afterAll(() => killAll());

    async function both(args: string[], input?: string, opts: { squash?: boolean; env?: Record<string, string> } = {}): Promise<RunResult> {
      const [want, got] = await Promise.all([
        etcdctlRun(forEtcdctl.endpoint, args, input, opts.env),
        ctlRun(forCtl.endpoint, args, input, opts.env),
      ]);
      let w = mask(want, forEtcdctl);
      let g = mask(got, forCtl);
      if (opts.squash) {
        w = squash(w);
        g = squash(g);
      }
      expect({ args, ...g }).toEqual({ args, ...w });
      return g;
    }

    it('runs the seed scenario identically (put, get, ranges, every output format)', async () => {
      expect((await both(['put', 'name5', 'apple'])).stdout).toBe('OK\n');
      await both(['put', 'name6', 'banana']);
      await both(['put', 'name7', 'orange']);
      await both(['put', 'name8', 'mango']);
      expect((await both(['get', 'name7'])).stdout).toBe('name7\norange\n');
      expect((await both(['get', 'name5', 'name8'])).stdout).toBe('name5\napple\nname6\nbanana\nname7\norange\n');
      await both(['get', '--prefix', 'name']);
      await both(['get', '--prefix', 'name', '-w', 'json']);
      await both(['get', '--prefix', 'name', '-w', 'fields']);
      await both(['get', '--prefix', 'name', '-w', 'protobuf']);
      await both(['get', '--prefix', 'name', '--hex']);
      await both(['get', '--prefix', 'name', '--sort-by=VALUE', '--order=DESCEND']);
      await both(['get', '--prefix', 'name', '--sort-by', 'MODIFY', '--order', 'ascend', '-w', 'json']);
      await both(['get', '--prefix', 'name', '--sort-by=KEY', '--order=ASCEND', '--limit=2', '-w', 'json']);
      await both(['get', '--prefix', 'name', '--limit', '2', '-w', 'fields']);
      await both(['get', '--prefix', 'name', '--rev', '3']);
      await both(['get', '--prefix', 'name', '--keys-only']);
      await both(['get', '--prefix', 'name', '--keys-only', '-w', 'json']);
      await both(['get', '--prefix', 'name', '--print-value-only']);
      await both(['get', '', '--from-key', '--consistency', 's', '--limit', '1']);
      await both(['get', 'name5', 'name7', 'ignored-extra-arg']);
      await both(['get', 'nokey', '-w', 'json']);
      await both(['put', 'name5', 'pear', '--prev-kv']);
      await both(['put', 'name5', 'plum', '--prev-kv', '-w', 'fields']);
      await both(['put', 'name5', 'fig', '--prev-kv', '-w', 'json']);
      await both(['put', 'name6', '--ignore-value', '--prev-kv']);
      await both(['put', 'fromstdin'], 'value from\nstdin');
      await both(['put', 'bin\x01key', 'tab\tquote"back\\slash é \u00a0']);
      await both(['get', 'bin\x01key', '-w', 'fields']);
      await both(['get', 'bin\x01key', '-w', 'json']);
      await both(['get', 'bin\x01key', '--hex']);
    }, 180_000);

    it('rejects bad arguments and bad flags identically', async () => {
      await both(['get', '--prefix', 'name', '--count-only', '-w', 'fields']);
      await both(['get']);
      await both(['get', 'a', 'b', '--prefix']);
      await both(['get', 'a', '--prefix', '--from-key']);
      await both(['get', 'k', '--sort-by=BAD']);
      await both(['get', 'k', '--order=SIDEWAYS']);
      await both(['get', 'k', '--consistency=x']);
      await both(['get', 'k', '--limit', 'abc']);
      await both(['get', 'k', '--bogus']);
      await both(['get', 'k', '-x']);
      await both(['get', 'k', '-w']);
      await both(['get', 'k', '--prefix=maybe']);
      await both(['get', 'k', '-w', 'nope']);
      await both(['get', 'k', '-w', 'table']);
      await both(['get', 'k', '--print-value-only', '-w', 'json']);
      await both(['get', 'k', '--dial-timeout=abc']);
      await both(['get', 'k', '--command-timeout=1']);
      await both(['put']);
      await both(['put', 'only-key']);
      await both(['put', 'k', 'v', '--lease', 'zz']);
      await both(['put', 'k', 'v', '--lease', '0x10']);
      await both(['put', 'k', 'v', '--lease', '1234']);
      await both(['put', 'k', 'x', '--ignore-value']);
      await both(['put', 'k', 'v', '-w', 'table']);
      await both(['del']);
      await both(['del', 'a', 'b', 'c']);
      await both(['del', 'a', '--range']);
      await both(['bogus']);
      await both(['gett']);
      // (`member` alone prints the group's help, which lists only the subcommands ctl has.)
      await both(['get', '--help']);
      await both(['del', '--help']);
      await both(['txn', '-h']);
      await both(['version']);
    }, 180_000);

    it('errors from the server: the retry warning line, then Error: <message>', async () => {
      await both(['get', 'name5', '--rev', '100000']);
      await both(['compaction', '100000']);
      await both(['put', '', 'v']);
    }, 180_000);

    it('deletes identically', async () => {
      await both(['del', 'nokey']);
      await both(['del', 'name8', '-w', 'fields']);
      await both(['del', 'name7', '--prev-kv', '-w', 'fields']);
      await both(['del', '--prefix', 'name', '--prev-kv']);
      await both(['put', 'name1', 'x']);
      await both(['del', 'name1', 'name9', '--prev-kv', '-w', 'json']);
      await both(['del', '--from-key', 'zzz', '-w', 'json']);
    }, 180_000);

    it('runs transactions from stdin identically (compares, success and failure branches)', async () => {
      await both(['put', 'tx1', 'one']);
      const t = 'value("tx1") = "one"\nmod("tx1") > "0"\n\nput tx1 "two"\nget tx1\ndel t0\n\nput tx1 "no"\n\n';
      await both(['txn'], t);
      await both(['txn', '-w', 'json'], t.replace('"one"', '"two"'));
      await both(['txn', '-w', 'fields'], 'ver("tx1") = "9"\n\n\nget tx1\nput tx1 "three" --prev-kv\n\n');
      await both(['txn', '-i'], 'c("tx1") != "0"\n\nput "t 2" "quoted \\"value\\"\\n"\n\n\n');
      await both(['txn', '-w', 'protobuf'], 'c("nokey") = "0"\n\nget --prefix t\n\n\n');
      await both(['get', 't', '--prefix']);
      await both(['txn'], '');
      await both(['txn'], 'mod("tx1") > "0"\n\nput tx1 "x"\n\nput tx1 "y"\n');
      await both(['txn'], 'foo("a") = "1"\n\n\n');
      await both(['txn'], 'mod("a") = "x"\n\n\n');
      await both(['txn'], 'mod(a) > "0"\n\n\n');
      await both(['txn'], 'mod("a")>"0"\n\n\n');
      await both(['txn'], '\n\nbogus a\n\n');
      await both(['txn'], '\n\nget\n\n');
      await both(['txn'], '\n\nget a --badflag\n\n');
      await both(['txn'], '\n\nget --prefix\n\n');
      await both(['txn'], '\n\nput a 1\nput a 2\n\n');
      await both(['txn', 'extra']);
      await both(['txn', '-w', 'table'], '\n\n\n');
    }, 180_000);

    it('compacts identically', async () => {
      await both(['compaction']);
      await both(['compaction', 'abc']);
      await both(['compaction', '3']);
      await both(['compaction', '3']);
      await both(['compaction', '4', '--physical', '-w', 'json']);
      await both(['get', 'tx1', '--rev', '2']);
    }, 180_000);

    it('prints member list and endpoint health/status identically', async () => {
      for (const w of ['simple', 'json', 'fields', 'table', 'protobuf']) await both(['member', 'list', '-w', w]);
      for (const w of ['simple', 'json', 'fields', 'protobuf']) await both(['endpoint', 'health', '-w', w]);
      await both(['endpoint', 'health', '-w', 'table'], undefined, { squash: true });
      for (const w of ['simple', 'json', 'fields', 'protobuf']) await both(['endpoint', 'status', '-w', w]);
      await both(['endpoint', 'status', '-w', 'table'], undefined, { squash: true });
    }, 180_000);

    it('fails over and times out like etcdctl when an endpoint is down', async () => {
      const dead = `127.0.0.1:${await freePort()}`;
      const live = (m: MemberProc): string => m.endpoint;
      const pair = async (args: (ep: string) => string[]): Promise<void> => {
        const [want, got] = await Promise.all([
          run('etcdctl', args(live(forEtcdctl)), {}),
          run(process.execPath, ['--import', 'tsx', `${repoRoot}/src/cli/main.ts`, ...args(live(forCtl))], {}),
        ]);
        const w = mask(want, forEtcdctl);
        const g = mask(got, forCtl);
        expect({ args: args('<live>'), ...g }).toEqual({ args: args('<live>'), ...w });
      };
      await pair(() => [`--endpoints=${dead}`, '--command-timeout=1s', 'get', 'tx1']);
      await pair(() => [`--endpoints=${dead}`, '--command-timeout=1s', 'endpoint', 'health']);
      await pair(() => [`--endpoints=${dead}`, '--command-timeout=1s', 'endpoint', 'health', '-w', 'json']);
      await pair((ep) => [`--endpoints=${dead},${ep}`, '--command-timeout=1s', 'get', 'tx1']);
      await pair((ep) => [`--endpoints=${ep},${dead}`, '--command-timeout=1s', 'endpoint', 'status']);
      await pair((ep) => [`--endpoints=http://${ep}`, 'endpoint', 'status', '-w', 'json']);
      await pair((ep) => [`--endpoints=${ep}`, '--user=root:pw', 'get', 'tx1']);
    }, 180_000);

    it('reads ETCDCTL_* like etcdctl (used, unrecognized, shadowed by a flag)', async () => {
      await both(['get', 'tx1'], undefined, { env: { ETCDCTL_WRITE_OUT: 'json' } });
      await both(['get', 'tx1'], undefined, { env: { ETCDCTL_HEX: 'true' } });
      const warn = await both(['get', 'tx1'], undefined, { env: { ETCDCTL_BOGUS: '1' } });
      expect(warn.stderr).toMatch(/W \| pkg\/flags: unrecognized environment variable ETCDCTL_BOGUS=1/);
      // set both ways: fatal
      const [want, got] = await Promise.all([
        etcdctlRun(forEtcdctl.endpoint, ['get', 'tx1'], undefined, { ETCDCTL_ENDPOINTS: forEtcdctl.endpoint }),
        ctlRun(forCtl.endpoint, ['get', 'tx1'], undefined, { ETCDCTL_ENDPOINTS: forCtl.endpoint }),
      ]);
      expect(mask(got, forCtl)).toEqual(mask(want, forEtcdctl));
      expect(got.code).toBe(1);
    }, 180_000);
  },
);

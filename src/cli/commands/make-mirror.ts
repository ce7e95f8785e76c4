/**
 * `make-mirror [options] <destination>` (etcdctl make_mirror_command.go, 3.4.23): copies every
 * key under --prefix (all keys without it) as of the current revision to the destination
 * cluster, in ranges of 1000 keys, then follows the source's changes from the next revision and
 * applies them, one destination txn per source revision. Keys are renamed by replacing the
 * first occurrence of --prefix with --dest-prefix (default: the same prefix; --no-dest-prefix:
 * to the root). Prints the number of keys synced every 30 s; runs until an error or the
 * process is stopped. A compaction under the watch ends it with etcd's "required revision has
 * been compacted". The destination takes its own TLS settings (--dest-cert, --dest-key,
 * --dest-cacert, --dest-insecure-transport).
 */
import { readFileSync } from 'node:fs';
import { prefixEnd } from '../../base/bytes.js';
import type { KeyValue, RequestOp } from '../../api/kv-types.js';
import { EventType } from '../../api/kv-types.js';
import type { EtcdClient } from '../../client/client.js';
import { ClientError } from '../../client/errors.js';
import type { Command } from '../command.js';
import { bin } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';

/** clientv3/mirror batchLimit. */
const batchLimit = 1000n;
/** How often the running count is printed. */
export const mirrorReportMs = 30_000;

export const makeMirrorCommand: Command = {
  name: 'make-mirror',
  use: '[options] <destination>',
  short: 'Makes a mirror at the destination etcd cluster',
  flags: [
    { name: 'prefix', kind: 'string', def: '', usage: 'Key-value prefix to mirror' },
    { name: 'dest-prefix', kind: 'string', def: '', usage: 'destination prefix to mirror a prefix to a different prefix in the destination cluster' },
    { name: 'no-dest-prefix', kind: 'bool', def: 'false', usage: 'mirror key-values to the root of the destination cluster' },
    { name: 'dest-cert', kind: 'string', def: '', usage: 'Identify secure client using this TLS certificate file for the destination cluster' },
    { name: 'dest-key', kind: 'string', def: '', usage: 'Identify secure client using this TLS key file' },
    { name: 'dest-cacert', kind: 'string', def: '', usage: 'Verify certificates of TLS enabled secure servers using this CA bundle' },
    { name: 'dest-insecure-transport', kind: 'bool', def: 'true', usage: 'Disable transport security for client connections' },
  ],
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'make-mirror takes one destination argument');
    const f = ctx.flags;
    const file = (name: string): Buffer | undefined => {
      const p = f.str(name);
      if (p === '') return undefined;
      try {
        return readFileSync(Buffer.from(p, 'latin1').toString('utf8'));
      } catch (e) {
        throw new CliExit(ExitCode.BadConnection, bin(e instanceof Error ? e.message : String(e)));
      }
    };
    const [ca, cert, key] = [file('dest-cacert'), file('dest-cert'), file('dest-key')];
    const destTls = !ca && !cert && !key && f.bool('dest-insecure-transport') ? null : { ca, cert, key };
    const dest = ctx.clientFor(args[0] as string, destTls);
    const src = await ctx.client();
    const prefix = Buffer.from(f.str('prefix'), 'latin1');
    let total = 0;
    const ticker = setInterval(() => ctx.out.stdout(`${total}\n`), mirrorReportMs);
    try {
      // SyncBase: the revision to copy at.
      const first = await src.range({ key: Buffer.from('foo') });
      const rev = first.resp.header.revision;
      if (f.bool('no-dest-prefix') && f.str('dest-prefix') !== '') {
        throw new CliExit(ExitCode.BadArgs, '`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one');
      }
      const destPrefix = Buffer.from(!f.bool('no-dest-prefix') && f.str('dest-prefix') === '' ? f.str('prefix') : f.str('dest-prefix'), 'latin1');
      const rename = (k: Buffer): Buffer => {
        const i = k.indexOf(prefix);
        return i < 0 ? k : Buffer.concat([k.subarray(0, i), destPrefix, k.subarray(i + prefix.length)]);
      };
      let from = prefix.length === 0 ? Buffer.from([0]) : prefix;
      const end = prefix.length === 0 ? Buffer.from([0]) : Buffer.from(prefixEnd(prefix));
      for (;;) {
        const r = await src.range({ key: from, range_end: end, limit: batchLimit, revision: rev });
        for (const kv of r.resp.kvs) {
          await dest.put({ key: rename(kv.key), value: kv.value });
          total++;
        }
        if (!r.resp.more) break;
        from = Buffer.concat([(r.resp.kvs[r.resp.kvs.length - 1] as KeyValue).key, Buffer.from([0])]);
      }
      await follow(src, dest, prefix, rev + 1n, rename, () => total++);
    } finally {
      clearInterval(ticker);
    }
  },
};

/** SyncUpdates: applies the source's changes, one destination txn per source revision. */
async function follow(src: EtcdClient, dest: EtcdClient, prefix: Buffer, startRevision: bigint, rename: (k: Buffer) => Buffer, count: () => void): Promise<void> {
  const session = await src.watchSession();
  const key = prefix.length === 0 ? Buffer.from([0]) : prefix;
  const rangeEnd = prefix.length === 0 ? Buffer.from([0]) : Buffer.from(prefixEnd(prefix));
  // Responses are applied strictly in order: each waits for the one before it.
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  const h = session.watch({ key, rangeEnd, startRevision }, (wr) => {
    chain = chain.then(async () => {
      if (failure !== null) return;
      let ops: RequestOp[] = [];
      let lastRev = 0n;
      const flush = async (): Promise<void> => {
        if (ops.length === 0) return;
        await dest.txn({ compare: [], success: ops, failure: [] });
        ops = [];
      };
      for (const ev of wr.events) {
        if (lastRev !== 0n && ev.kv.mod_revision > lastRev) await flush();
        lastRev = ev.kv.mod_revision;
        const k = rename(ev.kv.key);
        ops.push(
          ev.type === EventType.PUT
            ? { request: 'request_put', request_put: { key: k, value: ev.kv.value, lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false } }
            : { request: 'request_delete_range', request_delete_range: { key: k, range_end: Buffer.alloc(0), prev_kv: false } },
        );
        count();
      }
      await flush();
    }).catch((e: unknown) => {
      failure = e;
      h.cancel();
    });
  });
  const ended = await h.done;
  await chain;
  session.close();
  if (failure !== null) throw failure;
  if (ended !== null && ended.compact_revision !== 0n) throw new ClientError(11, 'etcdserver: mvcc: required revision has been compacted');
}

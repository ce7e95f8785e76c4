/**
 * `snapshot save|status|restore` (etcdctl 3.4 snapshot_command.go, clientv3/snapshot).
 *
 * save: Maintenance.Snapshot of the one endpoint into `<file>.part`, fsync, rename; the stream's
 * last chunk is the SHA-256 of the rest and stays in the file (restore checks it). Like
 * etcdctl 3.4 the whole download runs under --command-timeout. A progress bar on stderr when it
 * is a terminal.
 * status: hash (CRC-32C of every bucket name, key and value), revision (last key of the `key`
 * bucket), total keys and size of the bbolt file, as etcdctl computes them.
 * restore: through the offline tools bin/ctl.ts provides (cli/offline.ts).
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { crc32cUpdate } from '../../base/crc32c.js';
import { BoltReader, SnapshotFormatError } from '../../api/snapshot-file.js';
import { ClientError } from '../../client/errors.js';
import { nodeCrypto, nodeFsPromises } from '../builtins.js';
import type { Command } from '../command.js';
import { bin } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { dbStatusOutput, type DbStatus } from '../printers/maintenance.js';
import { ProgressBar } from '../progress.js';

/** A path argument (binary string) as the file system name. */
function fsPath(p: string): string {
  return Buffer.from(p, 'latin1').toString('utf8');
}

function goFsError(op: string, p: string, e: unknown): string {
  const code = (e as { code?: string }).code;
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
  };
  return `${op} ${p}: ${(code && text[code]) ?? (e instanceof Error ? e.message : String(e))}`;
}

export const snapshotSaveCommand: Command = {
  name: 'save',
  use: '<filename>',
  short: 'Stores an etcd node backend snapshot to a given file',
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'snapshot save expects one argument');
    const eps = ctx.flags.list('endpoints').map((e) => e.trim());
    if (eps.length !== 1) throw new CliExit(ExitCode.Interrupted, `snapshot must be requested to one selected node, not multiple [${eps.join(' ')}]`);
    const c = await ctx.client();
    const target = args[0] as string;
    const part = `${fsPath(target)}.part`;
    const bar = new ProgressBar(ctx.out.stderr, process.stderr.isTTY === true, 'Downloading snapshot');
    const fh = await nodeFsPromises().open(part, 'w', 0o600);
    let timer: NodeJS.Timeout | undefined;
    try {
      const download = (async (): Promise<void> => {
        const h = nodeCrypto().createHash('sha256');
        let last: Buffer | null = null;
        let done = 0;
        let total = 0;
        for await (const chunk of c.snapshot(0)) {
          if (total === 0) total = done + chunk.blob.length + Number(chunk.remaining_bytes);
          await fh.write(chunk.blob);
          if (last) h.update(last);
          last = chunk.blob;
          done += chunk.blob.length;
          bar.update(done, total);
        }
        bar.finish();
        if (!last || !h.digest().equals(last)) throw new CliExit(ExitCode.Interrupted, 'snapshot stream ended without a matching sha256 checksum');
        await fh.sync();
      })();
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(ClientError.deadline('context deadline exceeded')), c.commandTimeoutMs);
      });
      await Promise.race([download, deadline]);
      await fh.close();
      await nodeFsPromises().rename(part, fsPath(target));
    } catch (e) {
      await fh.close().catch(() => undefined);
      await nodeFsPromises().rm(part, { force: true });
      if (e instanceof CliExit) throw e;
      throw new CliExit(ExitCode.Interrupted, bin(e instanceof Error ? e.message : String(e)));
    } finally {
      clearTimeout(timer);
    }
    ctx.out.stdout(`Snapshot saved at ${target}\n`);
  },
};

/** etcdctl snapshot status of a bbolt file. */
export function snapshotStatus(path: string): DbStatus {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const reader = new BoltReader({
      size,
      read(offset, length) {
        const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
        let got = 0;
        while (got < buf.length) {
          const n = readSync(fd, buf, got, buf.length - got, offset + got);
          if (n === 0) break;
          got += n;
        }
        return buf;
      },
    });
    const ds: DbStatus = { hash: 0, revision: 0n, totalKey: 0, totalSize: reader.size };
    let h = 0;
    for (const name of reader.bucketNames()) {
      h = crc32cUpdate(h, name);
      const isKey = name.toString('latin1') === 'key';
      for (const [k, v] of reader.bucket(name) ?? []) {
        h = crc32cUpdate(h, k);
        h = crc32cUpdate(h, v);
        if (isKey && k.length >= 8) ds.revision = k.readBigInt64BE(0);
        ds.totalKey++;
      }
    }
    ds.hash = h;
    return ds;
  } finally {
    closeSync(fd);
  }
}

export const snapshotStatusCommand: Command = {
  name: 'status',
  use: '<filename>',
  short: 'Gets backend snapshot status of a given file',
  long: [
    'When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.',
    'The items in the lists are hash, revision, total keys, total size.',
  ].join('\n'),
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'snapshot status requires exactly one argument');
    ctx.display();
    const p = args[0] as string;
    try {
      statSync(fsPath(p));
    } catch (e) {
      throw new CliExit(ExitCode.Error, bin(goFsError('stat', p, e)));
    }
    let ds: DbStatus;
    try {
      ds = snapshotStatus(fsPath(p));
    } catch (e) {
      if (e instanceof SnapshotFormatError) throw new CliExit(ExitCode.Error, 'invalid database');
      throw new CliExit(ExitCode.Error, bin(e instanceof Error ? e.message : String(e)));
    }
    ctx.out.stdout(dbStatusOutput(ctx.flags.str('write-out'), ds));
  },
};

export const snapshotRestoreCommand: Command = {
  name: 'restore',
  use: '<filename> [options]',
  short: 'Restores an etcd member snapshot to an etcd directory',
  flags: [
    { name: 'data-dir', kind: 'string', def: '', usage: 'Path to the data directory' },
    { name: 'wal-dir', kind: 'string', def: '', usage: 'Path to the WAL directory (use --data-dir if none given)' },
    { name: 'initial-cluster', kind: 'string', def: 'default=http://localhost:2380', usage: 'Initial cluster configuration for restore bootstrap' },
    { name: 'initial-cluster-token', kind: 'string', def: 'etcd-cluster', usage: 'Initial cluster token for the etcd cluster during restore bootstrap' },
    {
      name: 'initial-advertise-peer-urls',
      kind: 'string',
      def: 'http://localhost:2380',
      usage: "List of this member's peer URLs to advertise to the rest of the cluster",
    },
    { name: 'name', kind: 'string', def: 'default', usage: 'Human-readable name for this member' },
    { name: 'skip-hash-check', kind: 'bool', def: 'false', usage: 'Ignore snapshot integrity hash value (required if copied from data directory)' },
  ],
  async run(ctx, args) {
    if (args.length !== 1) throw new CliExit(ExitCode.BadArgs, 'snapshot restore requires exactly one argument');
    if (!ctx.offline) throw new CliExit(ExitCode.BadFeature, 'snapshot restore is not available in this build of ctl');
    const name = ctx.flags.str('name');
    const dataDir = ctx.flags.str('data-dir') || `${name}.etcd`;
    try {
      await ctx.offline.restore({
        snapshotPath: fsPath(args[0] as string),
        dataDir: fsPath(dataDir),
        name: fsPath(name),
        initialCluster: fsPath(ctx.flags.str('initial-cluster')),
        initialClusterToken: fsPath(ctx.flags.str('initial-cluster-token')),
        initialAdvertisePeerUrls: fsPath(ctx.flags.str('initial-advertise-peer-urls')),
        skipHashCheck: ctx.flags.bool('skip-hash-check'),
        log: (msg, fields) => ctx.out.stderr(bin(`${JSON.stringify({ level: 'info', ts: Date.now() / 1000, msg, ...fields })}\n`)),
      });
    } catch (e) {
      if (e instanceof CliExit) throw e;
      const code = (e as { code?: string }).code;
      const msg = code === 'ENOENT' ? goFsError('open', args[0] as string, e) : e instanceof Error ? e.message : String(e);
      throw new CliExit(ExitCode.Error, bin(msg));
    }
  },
};

export const snapshotCommand: Command = {
  name: 'snapshot',
  use: '<subcommand>',
  short: 'Manages etcd node snapshots',
  children: [snapshotRestoreCommand, snapshotSaveCommand, snapshotStatusCommand],
};

/**
 * etcdserverpb.Maintenance (Status, Alarm, Defragment, HashKV, Snapshot) and
 * etcdserverpb.Cluster (MemberList); MoveLeader and the other Cluster methods are in
 * cluster-service.ts; Hash and Downgrade answer UNIMPLEMENTED (no handler).
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { toDomain, toWire } from '../api/convert.js';
import { metrics, secondsSince } from '../base/metrics.js';
import { encodeGeneric } from '../api/generic-codec.js';
import { Errors, GrpcError, type GrpcCode } from '../api/errors.js';
import { AlarmType, alarmText, alarmTypeNames, type AlarmRequest } from '../server/alarms.js';
import { serverVersion, type ServerApi } from '../server/server-api.js';
import { snapshotChunks } from '../server/snapshot.js';
import { toGrpcStatus } from './grpc-status.js';
import { Status, type CallContext, type StreamCall } from './h2/grpc-server.js';
import { callerOf, gateHost } from './auth-service.js';
import { decodeRequest, unary, type ServiceImpl } from './unary.js';

export function maintenanceHandlers(server: ServerApi, onUnknown: (e: unknown) => void): ServiceImpl {
  const host = gateHost(server);
  /** Auth hook: root only, with etcd's untranslated "auth: ..." errors (code Unknown). */
  const rootOnly = (ctx: CallContext): Promise<void> => server.auth.checkMaintenance(ctx, host);
  return {
    Status: unary(async () => {
      const errors: string[] = [];
      // etcd v3rpc maintenance.go Status: no leader first, then every active alarm.
      if (server.leader() === 0n) errors.push(Errors.NoLeader.message);
      for (const a of server.alarms.get(AlarmType.NONE)) errors.push(alarmText(a));
      return toWire('etcdserverpb.StatusResponse', {
        header: server.header(),
        version: serverVersion,
        dbSize: BigInt(server.dbSize()),
        leader: server.leader(),
        raftIndex: server.raftIndex(),
        raftTerm: server.term(),
        raftAppliedIndex: server.applied(),
        errors,
        dbSizeInUse: BigInt(await server.dbSizeInUse()),
        isLearner: server.isLearner(),
        storageVersion: '',
        dbSizeQuota: BigInt(Math.max(0, server.opts.quotaBackendBytes)),
      });
    }),
    Alarm: unary(async (wire, ctx) => {
      const req = toDomain<AlarmRequest>('etcdserverpb.AlarmRequest', wire);
      await callerOf(server, ctx, host); // a raft request: a bad token fails (no permission needed)
      // etcd answers Alarm without a header (the apply result is returned as it is).
      return toWire('etcdserverpb.AlarmResponse', await server.alarm(req));
    }),
    Defragment: unary(async (_wire, ctx) => {
      await rootOnly(ctx);
      await server.defragment();
      return toWire('etcdserverpb.DefragmentResponse', {});
    }),
    HashKV: unary(async (wire, ctx) => {
      const req = toDomain<{ revision: bigint }>('etcdserverpb.HashKVRequest', wire);
      await rootOnly(ctx);
      const r = await server.hashKV(req.revision);
      return toWire('etcdserverpb.HashKVResponse', {
        header: server.header(r.currentRev),
        hash: r.hash,
        compact_revision: r.compactRev,
        hash_revision: r.hashRev,
      });
    }),
    Snapshot: {
      kind: 'serverStream',
      handler: (req, call) => {
        decodeRequest('etcdserverpb.SnapshotRequest', req);
        rootOnly(call).then(
          () => streamSnapshot(server, call, onUnknown),
          (e: unknown) => call.end(toGrpcStatus(e, onUnknown)),
        );
      },
    },
  };
}

/** The first active alarm /health reports (etcd etcdhttp checkHealth), unless excluded by name. */
export function unhealthyAlarm(server: ServerApi, exclude: string[]): string | null {
  for (const a of server.alarms.get(AlarmType.NONE)) {
    const name = alarmTypeNames[a.alarm] ?? String(a.alarm);
    if (!exclude.includes(name)) return name;
  }
  return null;
}

let snapshotSeq = 0;

async function streamSnapshot(server: ServerApi, call: StreamCall, onUnknown: (e: unknown) => void): Promise<void> {
  let cancelled = false;
  let wake: (() => void) | null = null;
  call.onCancel(() => {
    cancelled = true;
    wake?.();
  });
  call.onDrain(() => wake?.());
  const dir = path.join(server.opts.dataDir, 'member');
  if (snapshotSeq === 0) await removeStaleSnapshots(dir);
  const file = path.join(dir, `snapshot-${process.pid}-${++snapshotSeq}.tmp`);
  // etcd_disk_backend_snapshot_duration_seconds: from taking the snapshot until it is sent or
  // the stream ends early, as etcd's backend snapshot is observed when it is closed.
  const t0 = performance.now();
  let taken = false;
  try {
    const f = await server.writeSnapshotFile(file).catch(async (e: unknown) => {
      await rm(file, { force: true });
      throw e;
    });
    taken = true;
    for await (const chunk of snapshotChunks(f)) {
      if (cancelled) break;
      const more = call.write(encodeGeneric('etcdserverpb.SnapshotResponse', toWire('etcdserverpb.SnapshotResponse', chunk)));
      if (!more && !cancelled) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    }
    call.end();
  } catch (e) {
    call.end(toGrpcStatus(e, onUnknown));
  } finally {
    if (taken) metrics.disk.backendSnapshot.observe(secondsSince(t0));
  }
}

/**
 * Temp files of snapshots an earlier process left behind (killed while streaming): another
 * pid's. This process removes its own when each stream ends.
 */
async function removeStaleSnapshots(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => /^snapshot-\d+-\d+\.tmp$/.test(n) && !n.startsWith(`snapshot-${process.pid}-`));
  await Promise.all(stale.map((n) => rm(path.join(dir, n), { force: true })));
}

export function clusterHandlers(server: ServerApi): ServiceImpl {
  return {
    MemberList: unary(async () => {
      return toWire('etcdserverpb.MemberListResponse', {
        // Cluster calls do not touch the KV store: etcd leaves the header revision 0.
        header: { ...server.header(), revision: 0n },
        members: server.members.map((m) => ({
          ID: m.id,
          name: m.name,
          peerURLs: m.peerURLs,
          clientURLs: m.clientURLs,
          isLearner: m.isLearner,
        })),
      });
    }),
  };
}

export function healthHandlers(): ServiceImpl {
  return {
    Check: unary(async (wire) => {
      // etcd registers the empty service name as SERVING (v3rpc/grpc.go).
      if (wire.service === '') return { status: 1 };
      throw new GrpcError(Status.NOT_FOUND as number as GrpcCode, 'unknown service');
    }),
  };
}

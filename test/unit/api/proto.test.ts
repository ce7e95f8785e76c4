/**
 * etcd's wire contract as loaded from proto/: every gRPC path of ETCD-FACTS §1.1 with its stream
 * kind, and a sample of field numbers checked by encoding (a renumbered field would silently
 * break real etcd clients), plus the proto-loader conventions the rest of the code relies on.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  allServiceMethods,
  authService,
  clusterService,
  electionService,
  grpcObject,
  healthService,
  KVClient,
  kvService,
  leaseService,
  lockService,
  maintenanceService,
  packageDefinition,
  protoDir,
  protoRoot,
  watchService,
} from '../../../src/api/proto.js';

type Kind = 'U' | 'SS' | 'BS';

// ETCD-FACTS §1.1 (RangeStream, 3.7 only, deliberately absent).
const expectedPaths: [string, Kind][] = [
  ['/etcdserverpb.KV/Range', 'U'],
  ['/etcdserverpb.KV/Put', 'U'],
  ['/etcdserverpb.KV/DeleteRange', 'U'],
  ['/etcdserverpb.KV/Txn', 'U'],
  ['/etcdserverpb.KV/Compact', 'U'],
  ['/etcdserverpb.Watch/Watch', 'BS'],
  ['/etcdserverpb.Lease/LeaseGrant', 'U'],
  ['/etcdserverpb.Lease/LeaseRevoke', 'U'],
  ['/etcdserverpb.Lease/LeaseKeepAlive', 'BS'],
  ['/etcdserverpb.Lease/LeaseTimeToLive', 'U'],
  ['/etcdserverpb.Lease/LeaseLeases', 'U'],
  ['/etcdserverpb.Cluster/MemberAdd', 'U'],
  ['/etcdserverpb.Cluster/MemberRemove', 'U'],
  ['/etcdserverpb.Cluster/MemberUpdate', 'U'],
  ['/etcdserverpb.Cluster/MemberList', 'U'],
  ['/etcdserverpb.Cluster/MemberPromote', 'U'],
  ['/etcdserverpb.Maintenance/Alarm', 'U'],
  ['/etcdserverpb.Maintenance/Status', 'U'],
  ['/etcdserverpb.Maintenance/Defragment', 'U'],
  ['/etcdserverpb.Maintenance/Hash', 'U'],
  ['/etcdserverpb.Maintenance/HashKV', 'U'],
  ['/etcdserverpb.Maintenance/Snapshot', 'SS'],
  ['/etcdserverpb.Maintenance/MoveLeader', 'U'],
  ['/etcdserverpb.Maintenance/Downgrade', 'U'],
  ['/etcdserverpb.Auth/AuthEnable', 'U'],
  ['/etcdserverpb.Auth/AuthDisable', 'U'],
  ['/etcdserverpb.Auth/AuthStatus', 'U'],
  ['/etcdserverpb.Auth/Authenticate', 'U'],
  ['/etcdserverpb.Auth/UserAdd', 'U'],
  ['/etcdserverpb.Auth/UserGet', 'U'],
  ['/etcdserverpb.Auth/UserList', 'U'],
  ['/etcdserverpb.Auth/UserDelete', 'U'],
  ['/etcdserverpb.Auth/UserChangePassword', 'U'],
  ['/etcdserverpb.Auth/UserGrantRole', 'U'],
  ['/etcdserverpb.Auth/UserRevokeRole', 'U'],
  ['/etcdserverpb.Auth/RoleAdd', 'U'],
  ['/etcdserverpb.Auth/RoleGet', 'U'],
  ['/etcdserverpb.Auth/RoleList', 'U'],
  ['/etcdserverpb.Auth/RoleDelete', 'U'],
  ['/etcdserverpb.Auth/RoleGrantPermission', 'U'],
  ['/etcdserverpb.Auth/RoleRevokePermission', 'U'],
  ['/v3electionpb.Election/Campaign', 'U'],
  ['/v3electionpb.Election/Proclaim', 'U'],
  ['/v3electionpb.Election/Leader', 'U'],
  ['/v3electionpb.Election/Observe', 'SS'],
  ['/v3electionpb.Election/Resign', 'U'],
  ['/v3lockpb.Lock/Lock', 'U'],
  ['/v3lockpb.Lock/Unlock', 'U'],
  ['/grpc.health.v1.Health/Check', 'U'],
  ['/grpc.health.v1.Health/Watch', 'SS'],
];

function kindOf(m: { requestStream: boolean; responseStream: boolean }): string {
  if (m.requestStream && m.responseStream) return 'BS';
  if (m.responseStream) return 'SS';
  if (m.requestStream) return 'CS';
  return 'U';
}

function encode(typeName: string, fields: Record<string, unknown>): Buffer {
  const t = protoRoot.lookupType(typeName);
  return Buffer.from(t.encode(t.fromObject(fields)).finish());
}

/** Field number of the first tag in an encoding (varint tag, field = tag >> 3). */
function firstFieldNumber(buf: Buffer): number {
  return protobuf.Reader.create(buf).uint32() >>> 3;
}

describe('proto loader', () => {
  it('resolves protoDir to <package root>/proto', () => {
    expect(path.basename(protoDir)).toBe('proto');
    expect(existsSync(path.join(protoDir, 'etcdserverpb', 'rpc.proto'))).toBe(true);
    expect(existsSync(path.join(path.dirname(protoDir), 'package.json'))).toBe(true);
  });

  it('serves exactly the gRPC paths of ETCD-FACTS §1.1 with their stream kinds', () => {
    const actual = allServiceMethods()
      .map((m) => [m.path, kindOf(m)])
      .sort();
    expect(actual).toEqual([...expectedPaths].sort());
  });

  it('names service, method and message types consistently in allServiceMethods', () => {
    const range = allServiceMethods().find((m) => m.path === '/etcdserverpb.KV/Range');
    // Message types by full name (unambiguous across packages).
    expect(range).toMatchObject({ service: 'etcdserverpb.KV', method: 'Range', requestType: 'etcdserverpb.RangeRequest' });
    expect(range?.responseType).toBe('etcdserverpb.RangeResponse');
    const observe = allServiceMethods().find((m) => m.path === '/v3electionpb.Election/Observe');
    expect(observe).toMatchObject({ requestType: 'v3electionpb.LeaderRequest', responseStream: true, requestStream: false });
  });

  it('exports service definitions and client constructors', () => {
    const defs = {
      kvService,
      watchService,
      leaseService,
      clusterService,
      maintenanceService,
      authService,
      electionService,
      lockService,
      healthService,
    };
    for (const def of Object.values(defs)) expect(Object.keys(def).length).toBeGreaterThan(0);
    expect(kvService.Range?.path).toBe('/etcdserverpb.KV/Range');
    expect(watchService.Watch?.requestStream).toBe(true);
    expect(typeof KVClient).toBe('function');
    expect(grpcObject.etcdserverpb).toBeDefined();
  });

  it('does not declare RangeStream (3.7 only) or any HTTP annotation dependency', () => {
    expect(allServiceMethods().some((m) => m.method === 'RangeStream')).toBe(false);
    expect(Object.keys(packageDefinition).some((k) => k.startsWith('google.api') || k.startsWith('gogoproto'))).toBe(
      false,
    );
  });
});

describe('field numbers (by encoding)', () => {
  it('RangeRequest.count_only is field 9 (bytes 0x48 0x01)', () => {
    expect([...encode('etcdserverpb.RangeRequest', { count_only: true })]).toEqual([0x48, 0x01]);
  });

  it.each([
    ['etcdserverpb.WatchResponse', { events: [{}] }, 11],
    ['etcdserverpb.Compare', { range_end: Buffer.from('b') }, 64],
    ['mvccpb.KeyValue', { lease: 1 }, 6],
    ['etcdserverpb.StatusResponse', { raftAppliedIndex: 1 }, 7],
    ['etcdserverpb.StatusResponse', { isLearner: true }, 10],
    ['etcdserverpb.StatusResponse', { downgradeInfo: { enabled: true } }, 13],
    ['etcdserverpb.Member', { isLearner: true }, 5],
    ['etcdserverpb.Compare', { lease: 1 }, 8],
    ['etcdserverpb.RequestOp', { request_txn: {} }, 4],
    ['etcdserverpb.WatchRequest', { progress_request: {} }, 3],
    ['etcdserverpb.WatchCreateRequest', { fragment: true }, 8],
    ['etcdserverpb.HashKVResponse', { hash_revision: 1 }, 4],
    ['etcdserverpb.AuthUserAddRequest', { hashedPassword: 'x' }, 4],
    ['etcdserverpb.AuthUserChangePasswordRequest', { hashedPassword: 'x' }, 3],
    ['etcdserverpb.AuthStatusResponse', { authRevision: 1 }, 3],
    ['etcdserverpb.MemberListRequest', { linearizable: true }, 1],
    ['etcdserverpb.LeaseCheckpoint', { remaining_TTL: 1 }, 2],
    ['etcdserverpb.LeaseTimeToLiveResponse', { grantedTTL: 1 }, 4],
    ['authpb.Permission', { range_end: Buffer.from('b') }, 3],
    ['authpb.User', { options: { no_password: true } }, 4],
    ['v3electionpb.LeaderKey', { lease: 1 }, 4],
    ['v3lockpb.LockResponse', { key: Buffer.from('k') }, 2],
  ])('%s %j is field %i', (type, fields, field) => {
    expect(firstFieldNumber(encode(type, fields))).toBe(field);
  });

  it('keeps enum values', () => {
    const compare = protoRoot.lookupEnum('etcdserverpb.Compare.CompareTarget');
    expect(compare.values).toEqual({ VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 });
    expect(protoRoot.lookupEnum('etcdserverpb.AlarmType').values).toEqual({ NONE: 0, NOSPACE: 1, CORRUPT: 2 });
    expect(protoRoot.lookupEnum('mvccpb.Event.EventType').values).toEqual({ PUT: 0, DELETE: 1 });
  });
});

describe('proto-loader conventions', () => {
  /** Round-trips through the grpc-js deserializer, i.e. what server handlers receive. */
  function viaGrpc(pathName: string, typeName: string, fields: Record<string, unknown>): Record<string, unknown> {
    const m = allServiceMethods().find((x) => x.path === pathName);
    expect(m).toBeDefined();
    const svc = Object.values(
      [kvService, watchService, leaseService, clusterService, maintenanceService, authService].find((s) =>
        Object.values(s).some((d) => d.path === pathName),
      ) ?? {},
    ).find((d) => d.path === pathName);
    expect(svc).toBeDefined();
    const bytes = encode(typeName, fields);
    return (svc?.requestDeserialize(bytes) ?? {}) as Record<string, unknown>;
  }

  it('decodes int64 fields as decimal strings (all 64 bits)', () => {
    const req = viaGrpc('/etcdserverpb.KV/Put', 'etcdserverpb.PutRequest', {
      key: Buffer.from('k'),
      lease: '9223372036854775807',
    });
    expect(req.lease).toBe('9223372036854775807');
    expect(Buffer.isBuffer(req.key)).toBe(true);
  });

  it('names the chosen oneof member', () => {
    const req = viaGrpc('/etcdserverpb.KV/Txn', 'etcdserverpb.TxnRequest', {
      compare: [{ key: Buffer.from('k'), target: 1, create_revision: 0 }],
      success: [{ request_put: { key: Buffer.from('k') } }],
    });
    const compare = (req.compare as Record<string, unknown>[])[0];
    const op = (req.success as Record<string, unknown>[])[0];
    expect(compare?.target_union).toBe('create_revision');
    expect(compare?.create_revision).toBe('0');
    expect(op?.request).toBe('request_put');
  });

  it('fills defaults and gives enums as numbers', () => {
    const req = viaGrpc('/etcdserverpb.KV/Range', 'etcdserverpb.RangeRequest', { sort_order: 2 });
    expect(req.sort_order).toBe(2);
    expect(req.limit).toBe('0');
    expect(req.count_only).toBe(false);
  });
});

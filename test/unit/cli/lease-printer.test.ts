/**
 * Lease output of ctl against text captured from etcdctl 3.4.23 talking to etcd 3.4.23
 * (2026-11-23), so the formats are checked even where etcd is not installed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadGoJson } from '../../../src/cli/go-json.js';
import { toDomain } from '../../../src/api/convert.js';
import type { CallResult, WireMessage } from '../../../src/client/types.js';
import { leaseHex, leasePrinter } from '../../../src/cli/printers/lease.js';
import { CliExit } from '../../../src/cli/output.js';

const header = { cluster_id: '15118495548433857066', member_id: '13668033151171901709', revision: '3', raft_term: '2' };

function res<T>(type: string, raw: WireMessage): CallResult<T> {
  return { type: `etcdserverpb.${type}`, raw, resp: toDomain<T>(`etcdserverpb.${type}`, raw) };
}

const ttlWithKeys = res('LeaseTimeToLiveResponse', {
  header,
  ID: '4111120196836997127',
  TTL: '99',
  grantedTTL: '100',
  keys: [Buffer.from('k1'), Buffer.from('k2')],
});
const ttlUnknown = res('LeaseTimeToLiveResponse', { header, ID: '4660', TTL: '-1', grantedTTL: '0', keys: [] });
const list = res('LeaseLeasesResponse', { header, leases: [{ ID: '4111120196836997125' }, { ID: '4111120196836997127' }] });
const grant = res('LeaseGrantResponse', { header, ID: '4111120196836997131', TTL: '50', error: '' });
const keepAlive = res('LeaseKeepAliveResponse', { header, ID: '4111120196836997127', TTL: '100' });
const revoke = res('LeaseRevokeResponse', { header: { ...header, revision: '4' } });

// The json/protobuf printers need go-json's implementation loaded (main.ts loads it for -w json|protobuf).
beforeAll(() => loadGoJson());

describe('lease printers (etcdctl 3.4.23 text)', () => {
  it('simple', () => {
    const p = leasePrinter('simple');
    expect(p.timeToLive(ttlWithKeys as never, true)).toBe('lease 390da20991673807 granted with TTL(100s), remaining(99s), attached keys([k1 k2])\n');
    expect(p.timeToLive(ttlWithKeys as never, false)).toBe('lease 390da20991673807 granted with TTL(100s), remaining(99s)\n');
    expect(p.timeToLive(ttlUnknown as never, false)).toBe('lease 0000000000001234 already expired\n');
    expect(p.leases(list as never)).toBe('found 2 leases\n390da20991673805\n390da20991673807\n');
    expect(p.grant(grant as never)).toBe('lease 390da2099167380b granted with TTL(50s)\n');
    expect(p.keepAlive(keepAlive as never)).toBe('lease 390da20991673807 keepalived with TTL(100)\n');
    expect(p.revoke(0x390da20991673807n, revoke as never)).toBe('lease 390da20991673807 revoked\n');
  });

  it('json: clientv3 structs with the header flattened', () => {
    const p = leasePrinter('json');
    const h = '"cluster_id":15118495548433857066,"member_id":13668033151171901709,"revision":3,"raft_term":2';
    expect(p.timeToLive(ttlWithKeys as never, true)).toBe(`{${h},"id":4111120196836997127,"ttl":99,"granted-ttl":100,"keys":["azE=","azI="]}\n`);
    expect(p.timeToLive(ttlUnknown as never, false)).toBe(`{${h},"id":4660,"ttl":-1,"granted-ttl":0,"keys":null}\n`);
    expect(p.leases(list as never)).toBe(`{${h},"leases":[{"id":4111120196836997125},{"id":4111120196836997127}]}\n`);
    expect(p.grant(grant as never)).toBe(`{${h},"ID":4111120196836997131,"TTL":50,"Error":""}\n`);
    expect(p.keepAlive(keepAlive as never)).toBe(`{${h},"ID":4111120196836997127,"TTL":100}\n`);
    expect(p.revoke(1n, revoke as never)).toBe(
      '{"header":{"cluster_id":15118495548433857066,"member_id":13668033151171901709,"revision":4,"raft_term":2}}\n',
    );
  });

  it('fields', () => {
    const p = leasePrinter('fields');
    const h = '"ClusterID" : 15118495548433857066\n"MemberID" : 13668033151171901709\n"Revision" : 3\n"RaftTerm" : 2\n';
    expect(p.timeToLive(ttlWithKeys as never, true)).toBe(`${h}"ID" : 4111120196836997127\n"TTL" : 99\n"GrantedTTL" : 100\n"Key" : "k1"\n"Key" : "k2"\n`);
    expect(p.leases(list as never)).toBe(`${h}"ID" : 4111120196836997125\n"ID" : 4111120196836997127\n`);
    expect(p.grant(grant as never)).toBe(`${h}"ID" : 4111120196836997131\n"TTL" : 50\n`);
  });

  it('protobuf: the embedded header alone; revoke refused with the Go value in the message', () => {
    const p = leasePrinter('protobuf');
    const bytes = Buffer.from(p.grant(grant as never), 'latin1');
    // od -c of etcdctl's output: \b 252 364 345 365 231 363 353 347 321 001 020 215 ... 030 003 040 002
    expect([...bytes.subarray(0, 3)]).toEqual([0o10, 0o252, 0o364]);
    expect([...bytes.subarray(-4)]).toEqual([0o30, 3, 0o40, 2]);
    let err: unknown;
    try {
      p.revoke(1n, revoke as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliExit);
    expect((err as CliExit).code).toBe(4);
    expect((err as CliExit).message).toBe(
      'marshal unsupported for type clientv3.LeaseRevokeResponse ({cluster_id:15118495548433857066 member_id:13668033151171901709 revision:4 raft_term:2 })',
    );
  });

  it('prints ids as Go %016x of an int64', () => {
    expect(leaseHex(0x1234n)).toBe('0000000000001234');
    expect(leaseHex(-5n)).toBe('-000000000000005');
  });
});

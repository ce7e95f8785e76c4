/**
 * ctl's display of the maintenance commands, against text captured from etcdctl 3.4.23
 * (test/compat/maintenance-vs-etcd.test.ts compares them live), and the progress bar.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadGoJson } from '../../../src/cli/go-json.js';
import { alarmOutput, dbStatusOutput, hashKvOutput } from '../../../src/cli/printers/maintenance.js';
import { ProgressBar } from '../../../src/cli/progress.js';
import { CliExit } from '../../../src/cli/output.js';

const header = { cluster_id: 15875391935852295136n, member_id: 7383792418829112008n, revision: 12n, raft_term: 2n };
const hashkv = {
  ep: '127.0.0.1:42379',
  resp: {
    type: 'etcdserverpb.HashKVResponse',
    raw: {
      header: { cluster_id: '15875391935852295136', member_id: '7383792418829112008', revision: '12', raft_term: '2' },
      hash: 4155357278,
      compact_revision: '12',
    },
    resp: { header, hash: 4155357278, compact_revision: 12n, hash_revision: 0n },
  },
};

// The json/protobuf printers need go-json's implementation loaded (main.ts loads it for -w json|protobuf).
beforeAll(() => loadGoJson());

describe('maintenance printers (etcdctl 3.4.23 text)', () => {
  it('endpoint hashkv in every format', () => {
    expect(hashKvOutput('simple', [hashkv])).toBe('127.0.0.1:42379, 4155357278\n');
    expect(hashKvOutput('json', [hashkv])).toBe(
      '[{"Endpoint":"127.0.0.1:42379","HashKV":{"header":{"cluster_id":15875391935852295136,"member_id":7383792418829112008,"revision":12,"raft_term":2},"hash":4155357278,"compact_revision":12}}]\n',
    );
    expect(hashKvOutput('table', [hashkv])).toBe(
      [
        '+-----------------+------------+',
        '|    ENDPOINT     |    HASH    |',
        '+-----------------+------------+',
        '| 127.0.0.1:42379 | 4155357278 |',
        '+-----------------+------------+',
        '',
      ].join('\n'),
    );
    expect(hashKvOutput('fields', [hashkv])).toBe(
      '"ClusterID" : 15875391935852295136\n"MemberID" : 7383792418829112008\n"Revision" : 12\n"RaftTerm" : 2\n"Endpoint" : "127.0.0.1:42379"\n"Hash" : 4155357278\n\n',
    );
    expect(() => hashKvOutput('protobuf', [hashkv])).toThrow(CliExit);
  });

  it('alarm list: %+v lines, json without header, no table', () => {
    const r = {
      type: 'etcdserverpb.AlarmResponse',
      raw: { alarms: [{ memberID: '7383792418829112008', alarm: 1 }] },
      resp: { header: null, alarms: [{ memberID: 7383792418829112008n, alarm: 1 }] },
    };
    expect(alarmOutput('simple', r)).toBe('memberID:7383792418829112008 alarm:NOSPACE \n');
    expect(alarmOutput('json', r)).toBe('{"alarms":[{"memberID":7383792418829112008,"alarm":1}]}\n');
    expect(alarmOutput('json', { ...r, raw: { alarms: [] }, resp: { header: null, alarms: [] } })).toBe('{}\n');
    expect(() => alarmOutput('table', r)).toThrow('table not supported as output format');
  });

  it('snapshot status in every format', () => {
    const ds = { hash: 3137559008, revision: 11n, totalKey: 16, totalSize: 208896 };
    expect(dbStatusOutput('simple', ds)).toBe('bb0359e0, 11, 16, 209 kB\n');
    expect(dbStatusOutput('json', ds)).toBe('{"hash":3137559008,"revision":11,"totalKey":16,"totalSize":208896}\n');
    expect(dbStatusOutput('fields', ds)).toBe('"Hash" : 3137559008\n"Revision" : 11\n"Keys" : 16\n"Size" : 208896\n');
    expect(dbStatusOutput('table', ds)).toBe(
      [
        '+----------+----------+------------+------------+',
        '|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |',
        '+----------+----------+------------+------------+',
        '| bb0359e0 |       11 |         16 |     209 kB |',
        '+----------+----------+------------+------------+',
        '',
      ].join('\n'),
    );
  });

  it('progress bar: redrawn in place at most every 100 ms, always at the end, nothing off a terminal', () => {
    let out = '';
    let t = 0;
    const bar = new ProgressBar((s) => (out += s), true, 'Downloading snapshot', () => t);
    bar.update(0, 1000);
    bar.update(500, 1000); // too soon
    t += 100;
    bar.update(500, 1000);
    bar.update(1000, 1000); // the end is always drawn
    bar.finish();
    const frames = out.split('\r').filter((f) => f !== '');
    expect(frames.length).toBe(3);
    expect(frames[1]).toBe(`${ProgressBar.line('Downloading snapshot', 500, 1000)}\x1b[K`);
    expect(ProgressBar.line('x', 500, 1000)).toBe('x [===============>              ] 50% 500 B / 1.0 kB');
    expect(out.endsWith('\n')).toBe(true);
    let silent = '';
    const off = new ProgressBar((s) => (silent += s), false, 'x');
    off.update(1, 2);
    off.finish();
    expect(silent).toBe('');
  });
});

/**
 * Printers against text captured from the real etcdctl 3.4.23 (against a real etcd 3.4.23 on
 * 127.0.0.1): the responses below are those etcd answered (ids above 2^53 included), and each
 * expected string is what etcdctl printed for it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadGoJson } from '../../../src/cli/go-json.js';
import { toDomain } from '../../../src/api/convert.js';
import type { CallResult, MemberList, Put, Range, Status, Txn } from '../../../src/client/types.js';
import { newPrinter, SimplePrinter } from '../../../src/cli/printers/index.js';
import type { EndpointStatus } from '../../../src/cli/printers/printer.js';

function result<T>(type: string, raw: Record<string, unknown>): CallResult<T> {
  return { type: `etcdserverpb.${type}`, raw, resp: toDomain<T>(`etcdserverpb.${type}`, raw) };
}

const header = { cluster_id: '2037210783374497686', member_id: '13195394291058371180', revision: '5', raft_term: '2' };
const kv = (k: string, v: string, rev: string) => ({
  key: Buffer.from(k),
  create_revision: rev,
  mod_revision: rev,
  version: '1',
  value: Buffer.from(v),
  lease: '0',
});

const range = result<Range>('RangeResponse', {
  header,
  kvs: [kv('name5', 'apple', '2'), kv('name6', 'banana', '3'), kv('name7', 'orange', '4'), kv('name8', 'mango', '5')],
  more: false,
  count: '4',
});

// The json/protobuf printers need go-json's implementation loaded (main.ts loads it for -w json|protobuf).
beforeAll(() => loadGoJson());

describe('get', () => {
  it('json: numbers as numbers (exact above 2^53), bytes base64, zero fields omitted', () => {
    // Captured: etcdctl get --prefix name -w json
    expect(newPrinter('json', false)!.get(range)).toBe(
      '{"header":{"cluster_id":2037210783374497686,"member_id":13195394291058371180,"revision":5,"raft_term":2},' +
        '"kvs":[{"key":"bmFtZTU=","create_revision":2,"mod_revision":2,"version":1,"value":"YXBwbGU="},' +
        '{"key":"bmFtZTY=","create_revision":3,"mod_revision":3,"version":1,"value":"YmFuYW5h"},' +
        '{"key":"bmFtZTc=","create_revision":4,"mod_revision":4,"version":1,"value":"b3Jhbmdl"},' +
        '{"key":"bmFtZTg=","create_revision":5,"mod_revision":5,"version":1,"value":"bWFuZ28="}],"count":4}\n',
    );
  });

  it('fields', () => {
    const one = result<Range>('RangeResponse', { header, kvs: [kv('name5', 'apple', '2')], more: true, count: '4' });
    // Captured shape: etcdctl get --prefix name --limit 1 -w fields
    expect(newPrinter('fields', false)!.get(one)).toBe(
      '"ClusterID" : 2037210783374497686\n"MemberID" : 13195394291058371180\n"Revision" : 5\n"RaftTerm" : 2\n' +
        '"Key" : "name5"\n"CreateRevision" : 2\n"ModRevision" : 2\n"Version" : 1\n"Value" : "apple"\n"Lease" : 0\n' +
        '"More" : true\n"Count" : 4\n',
    );
  });

  it('simple, --hex, --print-value-only, and keys-only blank value lines', () => {
    expect(newPrinter('simple', false)!.get(range)).toBe('name5\napple\nname6\nbanana\nname7\norange\nname8\nmango\n');
    // Captured: etcdctl get --prefix name --hex
    expect(newPrinter('simple', true)!.get(range)).toBe(
      '\\x6e\\x61\\x6d\\x65\\x35\n\\x61\\x70\\x70\\x6c\\x65\n\\x6e\\x61\\x6d\\x65\\x36\n\\x62\\x61\\x6e\\x61\\x6e\\x61\n' +
        '\\x6e\\x61\\x6d\\x65\\x37\n\\x6f\\x72\\x61\\x6e\\x67\\x65\n\\x6e\\x61\\x6d\\x65\\x38\n\\x6d\\x61\\x6e\\x67\\x6f\n',
    );
    const p = newPrinter('simple', false) as SimplePrinter;
    p.valueOnly = true;
    expect(p.get(range)).toBe('apple\nbanana\norange\nmango\n');
    const keysOnly = result<Range>('RangeResponse', {
      header,
      kvs: [{ ...kv('name5', '', '2') }, { ...kv('name6', '', '3') }],
      count: '2',
    });
    expect(newPrinter('simple', false)!.get(keysOnly)).toBe('name5\n\nname6\n\n');
  });

  it('table is refused after the request', () => {
    expect(() => newPrinter('table', false)!.get(range)).toThrow('table not supported as output format');
  });

  it('fields quote bytes with Go %q (escapes, invalid UTF-8, non-printable runes)', () => {
    const odd = result<Range>('RangeResponse', {
      header,
      kvs: [kv('bin\x01key', 'tab\tquote"back\\slash é \u00a0', '2'), { ...kv('x', '', '3'), value: Buffer.from([0xff, 0x41]) }],
      count: '2',
    });
    const text = newPrinter('fields', false)!.get(odd);
    expect(text).toContain('"Key" : "bin\\x01key"\n');
    // é stays (printable; bytes as written), U+00A0 is not printable in Go
    expect(text).toContain(`"Value" : "tab\\tquote\\"back\\\\slash ${Buffer.from('é').toString('latin1')} \\u00a0"\n`);
    expect(text).toContain('"Value" : "\\xffA"\n');
  });
});

describe('put', () => {
  const withPrev = result<Put>('PutResponse', {
    header: { ...header, revision: '3' },
    prev_kv: { ...kv('name5', 'apple2', '2'), version: '1' },
  });
  it('json with prev_kv', () => {
    // Captured: etcdctl put name5 apple3 --prev-kv -w json
    expect(newPrinter('json', false)!.put(withPrev)).toBe(
      '{"header":{"cluster_id":2037210783374497686,"member_id":13195394291058371180,"revision":3,"raft_term":2},' +
        '"prev_kv":{"key":"bmFtZTU=","create_revision":2,"mod_revision":2,"version":1,"value":"YXBwbGUy"}}\n',
    );
  });
  it('simple and fields', () => {
    expect(newPrinter('simple', false)!.put(withPrev)).toBe('OK\nname5\napple2\n');
    expect(newPrinter('fields', false)!.put(withPrev)).toBe(
      '"ClusterID" : 2037210783374497686\n"MemberID" : 13195394291058371180\n"Revision" : 3\n"RaftTerm" : 2\n' +
        '"PrevKey" : "name5"\n"PrevCreateRevision" : 2\n"PrevModRevision" : 2\n"PrevVersion" : 1\n"PrevValue" : "apple2"\n"PrevLease" : 0\n',
    );
  });
});

describe('txn', () => {
  const txn = result<Txn>('TxnResponse', {
    header: { ...header, revision: '20' },
    succeeded: true,
    responses: [
      { response: 'response_put', response_put: { header: { revision: '20' } } },
      {
        response: 'response_range',
        response_range: {
          header: { revision: '20' },
          kvs: [{ key: Buffer.from('tx1'), create_revision: '18', mod_revision: '20', version: '3', value: Buffer.from('overwrote') }],
          count: '1',
        },
      },
    ],
  });
  it('json: oneofs as {"Response":{"ResponsePut":...}}', () => {
    // Captured: etcdctl txn -w json
    expect(newPrinter('json', false)!.txn(txn)).toBe(
      '{"header":{"cluster_id":2037210783374497686,"member_id":13195394291058371180,"revision":20,"raft_term":2},"succeeded":true,' +
        '"responses":[{"Response":{"ResponsePut":{"header":{"revision":20}}}},' +
        '{"Response":{"ResponseRange":{"header":{"revision":20},"kvs":[{"key":"dHgx","create_revision":18,"mod_revision":20,"version":3,"value":"b3Zlcndyb3Rl"}],"count":1}}}]}\n',
    );
  });
  it('simple: SUCCESS, then each response after a blank line', () => {
    // Captured: etcdctl txn (LIVE example of ETCD-FACTS §4)
    expect(newPrinter('simple', false)!.txn(txn)).toBe('SUCCESS\n\nOK\n\ntx1\noverwrote\n');
  });
});

describe('member list', () => {
  const ml = result<MemberList>('MemberListResponse', {
    header: { cluster_id: '16128400632968936350', member_id: '17010963214147749224', raft_term: '2' },
    members: [{ ID: '17010963214147749224', name: 'default', peerURLs: ['http://127.0.0.1:41380'], clientURLs: ['http://127.0.0.1:41379'] }],
  });
  it('simple, json, fields, table', () => {
    expect(newPrinter('simple', false)!.memberList(ml)).toBe(
      'ec1314ea52838568, started, default, http://127.0.0.1:41380, http://127.0.0.1:41379, false\n',
    );
    expect(newPrinter('json', false)!.memberList(ml)).toBe(
      '{"header":{"cluster_id":16128400632968936350,"member_id":17010963214147749224,"raft_term":2},' +
        '"members":[{"ID":17010963214147749224,"name":"default","peerURLs":["http://127.0.0.1:41380"],"clientURLs":["http://127.0.0.1:41379"]}]}\n',
    );
    expect(newPrinter('fields', false)!.memberList(ml)).toBe(
      '"ClusterID" : 16128400632968936350\n"MemberID" : 17010963214147749224\n"Revision" : 0\n"RaftTerm" : 2\n' +
        '"ID" : 17010963214147749224\n"Name" : "default"\n"PeerURL" : "http://127.0.0.1:41380"\n"ClientURL" : "http://127.0.0.1:41379"\n' +
        '"IsLearner" : false\n\n',
    );
    expect(newPrinter('table', false)!.memberList(ml)).toBe(
      '+------------------+---------+---------+------------------------+------------------------+------------+\n' +
        '|        ID        | STATUS  |  NAME   |       PEER ADDRS       |      CLIENT ADDRS      | IS LEARNER |\n' +
        '+------------------+---------+---------+------------------------+------------------------+------------+\n' +
        '| ec1314ea52838568 | started | default | http://127.0.0.1:41380 | http://127.0.0.1:41379 |      false |\n' +
        '+------------------+---------+---------+------------------------+------------------------+------------+\n',
    );
  });
});

describe('endpoint status and health', () => {
  const st: EndpointStatus = {
    ep: '127.0.0.1:41379',
    resp: result<Status>('StatusResponse', {
      header: { cluster_id: '16128400632968936350', member_id: '17010963214147749224', revision: '22', raft_term: '2' },
      version: '3.4.23',
      dbSize: '24576',
      leader: '17010963214147749224',
      raftIndex: '34',
      raftTerm: '2',
      raftAppliedIndex: '34',
      errors: [],
      dbSizeInUse: '24576',
      isLearner: false,
      storageVersion: '3.6.0',
    }),
  };
  it('simple, json (3.6-only fields dropped), fields, table', () => {
    expect(newPrinter('simple', false)!.endpointStatus([st])).toBe('127.0.0.1:41379, ec1314ea52838568, 3.4.23, 25 kB, true, false, 2, 34, 34, \n');
    expect(newPrinter('json', false)!.endpointStatus([st])).toBe(
      '[{"Endpoint":"127.0.0.1:41379","Status":{"header":{"cluster_id":16128400632968936350,"member_id":17010963214147749224,"revision":22,"raft_term":2},' +
        '"version":"3.4.23","dbSize":24576,"leader":17010963214147749224,"raftIndex":34,"raftTerm":2,"raftAppliedIndex":34,"dbSizeInUse":24576}}]\n',
    );
    expect(newPrinter('fields', false)!.endpointStatus([st])).toBe(
      '"ClusterID" : 16128400632968936350\n"MemberID" : 17010963214147749224\n"Revision" : 22\n"RaftTerm" : 2\n' +
        '"Version" : "3.4.23"\n"DBSize" : 24576\n"Leader" : 17010963214147749224\n"IsLearner" : false\n"RaftIndex" : 34\n' +
        '"RaftTerm" : 2\n"RaftAppliedIndex" : 34\n"Errors" : []\n"Endpoint" : "127.0.0.1:41379"\n\n',
    );
    expect(newPrinter('table', false)!.endpointStatus([st])).toBe(
      '+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+\n' +
        '|    ENDPOINT     |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |\n' +
        '+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+\n' +
        '| 127.0.0.1:41379 | ec1314ea52838568 |  3.4.23 |   25 kB |      true |      false |         2 |         34 |                 34 |        |\n' +
        '+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+\n',
    );
  });

  it('health: simple lines go to stderr; json, fields, table; unhealthy row', () => {
    const ok = { ep: '127.0.0.1:41379', health: true, took: '1.75467ms', error: '' };
    const bad = { ep: '127.0.0.1:41399', health: false, took: '1.000619915s', error: 'context deadline exceeded' };
    expect(newPrinter('simple', false)!.endpointHealth([ok, bad])).toEqual({
      stdout: '',
      stderr:
        '127.0.0.1:41379 is healthy: successfully committed proposal: took = 1.75467ms\n' +
        '127.0.0.1:41399 is unhealthy: failed to commit proposal: context deadline exceeded\n',
    });
    expect(newPrinter('json', false)!.endpointHealth([bad]).stdout).toBe(
      '[{"endpoint":"127.0.0.1:41399","health":false,"took":"1.000619915s","error":"context deadline exceeded"}]\n',
    );
    expect(newPrinter('fields', false)!.endpointHealth([ok]).stdout).toBe(
      '"Endpoint" : "127.0.0.1:41379"\n"Health" : true\n"Took" : 1.75467ms\n"Error" : \n\n',
    );
    // Captured: etcdctl endpoint health -w table against a dead endpoint
    expect(newPrinter('table', false)!.endpointHealth([bad]).stdout).toBe(
      '+-----------------+--------+--------------+---------------------------+\n' +
        '|    ENDPOINT     | HEALTH |     TOOK     |           ERROR           |\n' +
        '+-----------------+--------+--------------+---------------------------+\n' +
        '| 127.0.0.1:41399 |  false | 1.000619915s | context deadline exceeded |\n' +
        '+-----------------+--------+--------------+---------------------------+\n',
    );
    expect(() => newPrinter('protobuf', false)!.endpointHealth([ok])).toThrow('protobuf not supported as output format');
  });
});

/** etcdctl's fields printer: `"Name" : value` lines, %q for byte strings. */
import type { KeyValue } from '../../api/kv-types.js';
import type { CallResult, DeleteRange, MemberList, Put, Range, ResponseHeader, Txn } from '../../client/types.js';
import { bin, goQuote } from '../go-format.js';
import type { EndpointHealth, EndpointStatus, Printer } from './printer.js';

const zeroHeader: ResponseHeader = { cluster_id: 0n, member_id: 0n, revision: 0n, raft_term: 0n };

function hdr(h: ResponseHeader | null | undefined): string {
  const x = h ?? zeroHeader;
  return `"ClusterID" : ${x.cluster_id}\n"MemberID" : ${x.member_id}\n"Revision" : ${x.revision}\n"RaftTerm" : ${x.raft_term}\n`;
}

function kv(pfx: string, k: KeyValue): string {
  return (
    `"${pfx}Key" : ${goQuote(k.key)}\n` +
    `"${pfx}CreateRevision" : ${k.create_revision}\n` +
    `"${pfx}ModRevision" : ${k.mod_revision}\n` +
    `"${pfx}Version" : ${k.version}\n` +
    `"${pfx}Value" : ${goQuote(k.value)}\n` +
    `"${pfx}Lease" : ${k.lease}\n`
  );
}

/** Go's fmt %v of a []string: [a b c]. */
function goStrings(xs: string[]): string {
  return `[${xs.join(' ')}]`;
}

export class FieldsPrinter implements Printer {
  get(r: CallResult<Range>): string {
    const x = r.resp;
    return hdr(x.header) + x.kvs.map((k) => kv('', k)).join('') + `"More" : ${x.more === true}\n"Count" : ${x.count}\n`;
  }

  put(r: CallResult<Put>): string {
    return hdr(r.resp.header) + (r.resp.prev_kv ? kv('Prev', r.resp.prev_kv) : '');
  }

  del(r: CallResult<DeleteRange>): string {
    return hdr(r.resp.header) + `"Deleted" : ${r.resp.deleted}\n` + r.resp.prev_kvs.map((k) => kv('Prev', k)).join('');
  }

  txn(r: CallResult<Txn>): string {
    let s = hdr(r.resp.header) + `"Succeeded" : ${r.resp.succeeded === true}\n`;
    for (const op of r.resp.responses) {
      const wrap = <T>(resp: T): CallResult<T> => ({ type: '', raw: {}, resp });
      if (op.response === 'response_delete_range') s += this.del(wrap(op.response_delete_range as DeleteRange));
      else if (op.response === 'response_put') s += this.put(wrap(op.response_put as Put));
      else if (op.response === 'response_range') s += this.get(wrap(op.response_range as Range));
      else s += `"Unknown" : ${goQuote(String(op.response))}\n`;
    }
    return s;
  }

  memberList(r: CallResult<MemberList>): string {
    let s = hdr(r.resp.header);
    for (const m of r.resp.members) {
      s += `"ID" : ${m.ID}\n"Name" : ${goQuote(m.name)}\n`;
      for (const u of m.peerURLs) s += `"PeerURL" : ${goQuote(u)}\n`;
      for (const u of m.clientURLs) s += `"ClientURL" : ${goQuote(u)}\n`;
      s += `"IsLearner" : ${m.isLearner === true}\n\n`;
    }
    return s;
  }

  endpointHealth(hs: EndpointHealth[]): { stdout: string; stderr: string } {
    let s = '';
    for (const h of hs) {
      s += `"Endpoint" : ${goQuote(h.ep)}\n"Health" : ${h.health}\n"Took" : ${bin(h.took)}\n"Error" : ${bin(h.error)}\n\n`;
    }
    return { stdout: s, stderr: '' };
  }

  endpointStatus(ss: EndpointStatus[]): string {
    let s = '';
    for (const { ep, resp } of ss) {
      const x = resp.resp;
      s +=
        hdr(x.header) +
        `"Version" : ${goQuote(x.version)}\n` +
        `"DBSize" : ${x.dbSize}\n` +
        `"Leader" : ${x.leader}\n` +
        `"IsLearner" : ${x.isLearner === true}\n` +
        `"RaftIndex" : ${x.raftIndex}\n` +
        `"RaftTerm" : ${x.raftTerm}\n` +
        `"RaftAppliedIndex" : ${x.raftAppliedIndex}\n` +
        `"Errors" : ${bin(goStrings(x.errors))}\n` +
        `"Endpoint" : ${goQuote(ep)}\n\n`;
    }
    return s;
  }
}

/** The rows etcdctl builds for member list and endpoint status (simple and table share them). */
import { hex } from '../../base/int64.js';
import type { MemberList } from '../../client/types.js';
import { humanizeBytes } from '../go-format.js';
import type { EndpointHealth, EndpointStatus } from './printer.js';

export const memberListHeader = ['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'];

export function memberListRows(r: MemberList): string[][] {
  return r.members.map((m) => [
    hex(m.ID),
    m.name.length === 0 ? 'unstarted' : 'started',
    m.name,
    m.peerURLs.join(','),
    m.clientURLs.join(','),
    m.isLearner ? 'true' : 'false',
  ]);
}

export const endpointStatusHeader = [
  'ENDPOINT',
  'ID',
  'VERSION',
  'DB SIZE',
  'IS LEADER',
  'IS LEARNER',
  'RAFT TERM',
  'RAFT INDEX',
  'RAFT APPLIED INDEX',
  'ERRORS',
];

export function endpointStatusRows(ss: EndpointStatus[]): string[][] {
  return ss.map(({ ep, resp: { resp: s } }) => [
    ep,
    hex(s.header.member_id),
    s.version,
    humanizeBytes(s.dbSize),
    String(s.leader === s.header.member_id),
    String(s.isLearner === true),
    s.raftTerm.toString(),
    s.raftIndex.toString(),
    s.raftAppliedIndex.toString(),
    s.errors.join(', '),
  ]);
}

export const endpointHealthHeader = ['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR'];

export function endpointHealthRows(hs: EndpointHealth[]): string[][] {
  return hs.map((h) => [h.ep, String(h.health), h.took, h.error]);
}

/**
 * Joining an existing cluster (--initial-cluster-state existing, etcd's bootstrap "join" path):
 * ask the peers named in --initial-cluster (all but ourselves) for the member list over the peer
 * Members call, check it against --initial-cluster as etcd's ValidateClusterAndAssignIDs does
 * (same number of members, every existing member's peer URLs found in --initial-cluster), and
 * take our member id (the member with our peer URLs, added beforehand with `member add`) and the
 * cluster id from it. The member then starts its Raft core with no configuration and waits for
 * the leader, which sends it the log or a snapshot.
 */
import { hex } from '../base/int64.js';
import type { Logger } from '../base/logger.js';
import type { TlsMaterial } from '../base/tls.js';
import { type ClusterInfo, decodeClusterInfo } from '../membership/cluster-info.js';
import type { Member } from '../membership/member-store.js';
import { fetchClusterInfo } from '../peer/transport.js';

export const joinFetchTimeoutMs = 3000;
/** Rounds over the peer URLs before giving up (etcd makes one). */
export const joinFetchRounds = 3;

export class JoinError extends Error {
  override name = 'JoinError';
}

export interface InitialMemberUrls {
  name: string;
  peerUrls: string[];
}

const sameUrls = (a: readonly string[], b: readonly string[]): boolean => {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((u, i) => u === y[i]);
};

function describe(c: ClusterInfo): string {
  return `{ClusterID:${hex(c.clusterId)} Members:[${c.members.map((m) => `&{ID:${hex(m.id)} PeerURLs:[${m.peerURLs.join(' ')}]}`).join(' ')}] RemovedMemberIDs:[${c.removed.map(hex).join(' ')}]}`;
}

export async function fetchExistingCluster(args: {
  name: string;
  initialCluster: InitialMemberUrls[];
  logger: Logger;
  /** Peer TLS, to ask https:// peers. */
  tls?: TlsMaterial | null;
}): Promise<{ memberId: bigint; clusterId: bigint; members: Member[] }> {
  const self = args.initialCluster.find((m) => m.name === args.name);
  if (self === undefined) throw new JoinError(`couldn't find local name ${JSON.stringify(args.name)} in the initial cluster configuration`);
  const urls = args.initialCluster.filter((m) => m.name !== args.name).flatMap((m) => m.peerUrls);
  let existing: ClusterInfo | undefined;
  let lastError = '';
  for (let round = 0; round < joinFetchRounds && existing === undefined; round++) {
    for (const u of urls) {
      try {
        existing = decodeClusterInfo(await fetchClusterInfo(u, joinFetchTimeoutMs, args.tls ?? null));
        break;
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
        args.logger.warn('failed to get cluster response', { address: u, error: lastError });
      }
    }
  }
  if (existing === undefined) {
    throw new JoinError(`cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs (${lastError})`);
  }
  if (existing.members.length !== args.initialCluster.length) {
    throw new JoinError(`error validating peerURLs ${describe(existing)}: member count is unequal`);
  }
  for (const m of existing.members) {
    if (!args.initialCluster.some((l) => sameUrls(l.peerUrls, m.peerURLs))) {
      throw new JoinError(`error validating peerURLs ${describe(existing)}: PeerURLs: no match found for existing member (${hex(m.id)}, [${m.peerURLs.join(' ')}]), last resolver error (<nil>)`);
    }
  }
  const me = existing.members.find((m) => sameUrls(m.peerURLs, self.peerUrls));
  if (me === undefined) throw new JoinError(`error validating peerURLs ${describe(existing)}: no member has the peer URLs ${self.peerUrls.join(',')}`);
  if (existing.removed.includes(me.id)) throw new JoinError(`member ${hex(me.id)} has already been removed from the cluster`);
  args.logger.info('fetched the member list of the existing cluster', { 'local-member-id': hex(me.id), 'cluster-id': hex(existing.clusterId), members: existing.members.map((m) => `${hex(m.id)}=${m.peerURLs.join(',')}`) });
  return { memberId: me.id, clusterId: existing.clusterId, members: existing.members };
}

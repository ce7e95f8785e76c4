/**
 * What a member tells anyone who asks over the peer Members call (etcd's peer /members plus the
 * X-Etcd-Cluster-ID header): the cluster id, the member list and the removed ids. JSON, ids in
 * decimal; read by a joining member and by a member checking whether it was removed.
 */
import type { Member } from './member-store.js';

export interface ClusterInfo {
  clusterId: bigint;
  members: Member[];
  removed: bigint[];
}

interface Wire {
  clusterId: string;
  members: (Omit<Member, 'id'> & { id: string })[];
  removed: string[];
}

export function encodeClusterInfo(c: ClusterInfo): Uint8Array {
  const w: Wire = {
    clusterId: c.clusterId.toString(),
    members: c.members.map((m) => ({ ...m, id: m.id.toString() })),
    removed: c.removed.map((id) => id.toString()),
  };
  return Buffer.from(JSON.stringify(w));
}

/** Throws on anything that is not a member list. */
export function decodeClusterInfo(b: Uint8Array): ClusterInfo {
  const w = JSON.parse(Buffer.from(b).toString()) as Wire;
  if (typeof w.clusterId !== 'string' || !Array.isArray(w.members) || !Array.isArray(w.removed)) throw new Error('not a member list');
  return {
    clusterId: BigInt(w.clusterId),
    members: w.members.map((m) => ({
      id: BigInt(m.id),
      name: m.name ?? '',
      peerURLs: m.peerURLs ?? [],
      clientURLs: m.clientURLs ?? [],
      isLearner: m.isLearner === true,
    })),
    removed: w.removed.map((id) => BigInt(id)),
  };
}

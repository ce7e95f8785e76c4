/**
 * The cluster's member list as every member's state machine holds it (etcd's RaftCluster):
 * id, name, peer URLs, client URLs, learner flag. A static bootstrap writes the initial list
 * (peer URLs from --initial-cluster, names empty until each member publishes); after that it
 * changes only through applied log entries (a member publishing its name and client URLs,
 * and — with runtime reconfiguration — conf changes), so every member holds the same list at
 * the same applied index.
 *
 * Stored as one record (metaKey.members, JSON with ids in decimal) written in the same batch as
 * the apply that changed it. Invariants: ids are unique; a removed member never reappears.
 */
import { assert } from '../base/assert.js';
import type { Backend, WriteBatch } from '../storage/backend.js';
import { metaKey } from '../storage/schema.js';

export interface Member {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

type StoredMember = Omit<Member, 'id'> & { id: string };

export function encodeMembers(members: readonly Member[]): Buffer {
  const list: StoredMember[] = members.map((m) => ({ ...m, id: m.id.toString() }));
  return Buffer.from(JSON.stringify(list));
}

export function decodeMembers(raw: Buffer | undefined): Member[] {
  if (!raw) return [];
  const list = JSON.parse(raw.toString()) as StoredMember[];
  return list.map((m) => ({
    id: BigInt(m.id),
    name: m.name ?? '',
    peerURLs: m.peerURLs ?? [],
    clientURLs: m.clientURLs ?? [],
    isLearner: m.isLearner ?? false,
  }));
}

export class MemberStore {
  private list: Member[];

  constructor(members: Member[]) {
    assert(new Set(members.map((m) => m.id)).size === members.length, 'duplicate member id');
    this.list = members.map((m) => ({ ...m }));
  }

  static load(backend: Backend): MemberStore {
    return new MemberStore(decodeMembers(backend.getSync(metaKey.members)));
  }

  /** Sorted by id, as etcd's RaftCluster.Members (MemberList shows this order). */
  all(): Member[] {
    return [...this.list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((m) => ({ ...m, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs] }));
  }

  get(id: bigint): Member | undefined {
    return this.list.find((m) => m.id === id);
  }

  /** Apply a member's published attributes (etcd publish: name and client URLs). */
  setAttributes(id: bigint, name: string, clientURLs: string[], batch: WriteBatch): boolean {
    const m = this.list.find((x) => x.id === id);
    if (!m) return false; // published by a member removed meanwhile: ignored, as etcd
    m.name = name;
    m.clientURLs = [...clientURLs];
    batch.put(metaKey.members, encodeMembers(this.list));
    return true;
  }
}

/**
 * The cluster's member list as every member's state machine holds it (etcd's RaftCluster):
 * id, name, peer URLs, client URLs, learner flag. A static bootstrap writes the initial list
 * (peer URLs from --initial-cluster, names empty until each member publishes); after that it
 * changes only through applied log entries (a member publishing its name and client URLs,
 * and — with runtime reconfiguration — conf changes), so every member holds the same list at
 * the same applied index.
 *
 * Stored as one record (metaKey.members, JSON with ids in decimal) written in the same batch as
 * the apply that changed it. Removed ids are kept for ever, one record each under
 * prefix.removedMember (etcd's removed set: peers refuse them, a removed member stops).
 * Invariants: ids are unique; a removed member never reappears (add of a removed id is refused
 * by the caller and asserted here); a member is either listed or removed, never both.
 */
import { assert } from '../base/assert.js';
import type { Backend, WriteBatch } from '../storage/backend.js';
import { idOfKey, metaKey, prefix, prefixUpper, removedMemberKey } from '../storage/schema.js';

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
  private readonly removed: Set<bigint>;

  constructor(members: Member[], removed: Iterable<bigint> = []) {
    assert(new Set(members.map((m) => m.id)).size === members.length, 'duplicate member id');
    this.list = members.map((m) => ({ ...m }));
    this.removed = new Set(removed);
    for (const m of this.list) assert(!this.removed.has(m.id), `member ${m.id} is both listed and removed`);
  }

  static async load(backend: Backend): Promise<MemberStore> {
    const removed: bigint[] = [];
    for await (const [k] of backend.scan(prefix.removedMember, prefixUpper(prefix.removedMember))) removed.push(idOfKey(k));
    return new MemberStore(decodeMembers(backend.getSync(metaKey.members)), removed);
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  removedIds(): bigint[] {
    return [...this.removed];
  }

  /** Add a member (etcd AddMember) or, if already listed, keep the listed one (a member that
   *  joined with the list fetched from its peers replays the log entry that added it). */
  add(m: Member, batch: WriteBatch): void {
    assert(!this.removed.has(m.id), `re-adding removed member ${m.id}`);
    if (this.get(m.id) !== undefined) return;
    this.list.push({ ...m, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs] });
    batch.put(metaKey.members, encodeMembers(this.list));
  }

  /** Remove a member for ever (etcd RemoveMember). */
  remove(id: bigint, batch: WriteBatch): void {
    this.list = this.list.filter((m) => m.id !== id);
    this.removed.add(id);
    batch.put(metaKey.members, encodeMembers(this.list));
    batch.put(removedMemberKey(id), Buffer.alloc(0));
  }

  promote(id: bigint, batch: WriteBatch): void {
    const m = this.list.find((x) => x.id === id);
    if (!m) return;
    m.isLearner = false;
    batch.put(metaKey.members, encodeMembers(this.list));
  }

  /** etcd UpdateRaftAttributes: new peer URLs; the learner flag is kept. */
  updatePeerURLs(id: bigint, peerURLs: string[], batch: WriteBatch): void {
    const m = this.list.find((x) => x.id === id);
    if (!m) return;
    m.peerURLs = [...peerURLs];
    batch.put(metaKey.members, encodeMembers(this.list));
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

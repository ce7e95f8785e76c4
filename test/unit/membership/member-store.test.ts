import { describe, expect, it } from 'vitest';
import { decodeClusterInfo, encodeClusterInfo } from '../../../src/membership/cluster-info.js';
import { decodeMembers, MemberStore } from '../../../src/membership/member-store.js';
import { WriteBatch } from '../../../src/storage/backend.js';
import { metaKey, removedMemberKey } from '../../../src/storage/schema.js';

const m = (id: bigint, isLearner = false) => ({ id, name: '', peerURLs: [`http://h:${id}`], clientURLs: [], isLearner });

describe('member list changes (apply side)', () => {
  it('add, promote, update and remove write the list (and the removed id) into the apply batch', () => {
    const s = new MemberStore([m(1n)]);
    const b = new WriteBatch();
    s.add(m(2n, true), b);
    s.promote(2n, b);
    s.updatePeerURLs(2n, ['http://new:2'], b);
    s.remove(1n, b);
    expect(s.all().map((x) => [x.id, x.isLearner, x.peerURLs])).toEqual([[2n, false, ['http://new:2']]]);
    expect(s.isRemoved(1n)).toBe(true);
    const last = [...b.ops].reverse().find((o) => o.type === 'put' && o.key.equals(metaKey.members));
    expect(last?.type === 'put' && decodeMembers(last.value).map((x) => x.id)).toEqual([2n]);
    expect(b.ops.some((o) => o.type === 'put' && o.key.equals(removedMemberKey(1n)))).toBe(true);
  });

  it('adding a member already listed keeps the listed one (a joined member replays its own add)', () => {
    const s = new MemberStore([{ ...m(1n), name: 'published' }]);
    const b = new WriteBatch();
    s.add(m(1n), b);
    expect(s.get(1n)?.name).toBe('published');
    expect(b.size).toBe(0);
  });

  it('a removed member can never come back', () => {
    const s = new MemberStore([m(1n)], [7n]);
    expect(() => s.add(m(7n), new WriteBatch())).toThrow();
    expect(() => new MemberStore([m(7n)], [7n])).toThrow();
  });

  it('the Members call payload round-trips 64-bit ids', () => {
    const info = { clusterId: 0xffffffffffffffffn, members: [{ ...m(0x8000000000000001n, true), name: 'x', clientURLs: ['http://c:1'] }], removed: [3n] };
    expect(decodeClusterInfo(encodeClusterInfo(info))).toEqual(info);
    expect(() => decodeClusterInfo(Buffer.from('{}'))).toThrow();
  });
});

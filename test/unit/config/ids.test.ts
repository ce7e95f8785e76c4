/**
 * Member and cluster ids against figures read from a live etcd 3.4.23 (log lines
 * "starting local member" and `etcdctl member list -w json`), 2026-11-23.
 */
import { describe, expect, it } from 'vitest';
import { hex } from '../../../src/base/int64.js';
import { computeClusterId, computeMemberId } from '../../../src/config/ids.js';

describe('member and cluster ids equal etcd’s', () => {
  it('gives etcd’s ids for one member at http://127.0.0.1:2380 with token etcd-cluster', () => {
    const m = computeMemberId(['http://127.0.0.1:2380'], 'etcd-cluster');
    expect(hex(m)).toBe('b71f75320dc06a6c');
    expect(m).toBe(13195394291058371180n);
    expect(computeClusterId([m])).toBe(2037210783374497686n);
    expect(hex(computeClusterId([m]))).toBe('1c45a069f3a1d796');
  });

  it('gives a bare etcd’s ids (http://localhost:2380)', () => {
    const m = computeMemberId(['http://localhost:2380'], 'etcd-cluster');
    expect(hex(m)).toBe('8e9e05c52164694d');
    expect(hex(computeClusterId([m]))).toBe('cdf818194e3a8c32');
  });

  it('gives etcd’s ids for a real 3-member cluster with token etcd-cluster-1', () => {
    // etcd --name infraN --initial-cluster-token etcd-cluster-1
    //   --initial-cluster infra0=http://127.0.0.1:32380,infra1=http://127.0.0.1:32480,infra2=http://127.0.0.1:32580
    const token = 'etcd-cluster-1';
    const ids = ['http://127.0.0.1:32380', 'http://127.0.0.1:32480', 'http://127.0.0.1:32580'].map((u) => computeMemberId([u], token));
    expect(ids.map(hex)).toEqual(['fd422379fda50e48', '58004f6ecc3ed563', '2422d85b2b67c465']);
    expect(ids).toEqual([18249187646912138824n, 6341155612629325155n, 2603881420655412325n]);
    expect(computeClusterId(ids)).toBe(11492292279712020859n);
    // Order of the input does not matter: etcd sorts the ids.
    expect(computeClusterId([...ids].reverse())).toBe(11492292279712020859n);
  });

  it('hashes a member’s several peer URLs sorted, so their order does not matter', () => {
    const a = computeMemberId(['http://127.0.0.1:2390', 'http://127.0.0.1:2380'], 'etcd-cluster');
    expect(hex(a)).toBe('a0c9a451fad6dfb9');
    expect(computeMemberId(['http://127.0.0.1:2380', 'http://127.0.0.1:2390'], 'etcd-cluster')).toBe(a);
    expect(hex(computeClusterId([a]))).toBe('3195a95c74b8a063');
  });

  it('hashes an IPv6 peer URL as written', () => {
    const m = computeMemberId(['http://[::1]:2380'], 'etcd-cluster');
    expect(hex(m)).toBe('9f01c01111e47e74');
    expect(hex(computeClusterId([m]))).toBe('f34e429f9173d762');
  });

  it('appends the unix time for a member added at runtime', () => {
    const without = computeMemberId(['http://127.0.0.1:2380'], 'etcd-cluster');
    const at = computeMemberId(['http://127.0.0.1:2380'], 'etcd-cluster', 1_700_000_000n);
    expect(at).not.toBe(without);
    expect(computeMemberId(['http://127.0.0.1:2380'], 'etcd-cluster', 1_700_000_000n)).toBe(at);
    expect(computeMemberId(['http://127.0.0.1:2380'], 'etcd-cluster1700000000')).toBe(at);
  });
});

/**
 * The bootstrap member list and etcd's misconfiguration errors, with messages read from a live
 * etcd 3.4.23 given the same flags (2026-11-23).
 */
import { describe, expect, it } from 'vitest';
import { hex } from '../../../src/base/int64.js';
import { bootstrapMembers, ConfigError, parseConfig } from '../../../src/config/flags.js';

function boot(argv: string[]): ReturnType<typeof bootstrapMembers> {
  return bootstrapMembers(parseConfig(argv, {}).config);
}

function bootFailure(argv: string[]): string {
  try {
    boot(argv);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to fail`);
}

describe('bootstrapMembers', () => {
  it('gives a bare member etcd’s ids', () => {
    const b = boot([]);
    expect(hex(b.memberId)).toBe('8e9e05c52164694d');
    expect(hex(b.clusterId)).toBe('cdf818194e3a8c32');
    expect(b.members).toEqual([{ id: b.memberId, name: 'default', peerUrls: ['http://localhost:2380'] }]);
  });

  it('gives etcd’s ids to each member of the live 3-member cluster', () => {
    const cluster = 'infra0=http://127.0.0.1:32380,infra1=http://127.0.0.1:32480,infra2=http://127.0.0.1:32580';
    const expected = { infra0: 'fd422379fda50e48', infra1: '58004f6ecc3ed563', infra2: '2422d85b2b67c465' };
    for (const [name, id] of Object.entries(expected)) {
      const port = 32380 + 100 * Number(name.slice(-1));
      const b = boot(['--name', name, '--initial-advertise-peer-urls', `http://127.0.0.1:${port}`, '--initial-cluster', cluster, '--initial-cluster-token', 'etcd-cluster-1']);
      expect(hex(b.memberId)).toBe(id);
      expect(b.clusterId).toBe(11492292279712020859n);
      expect(b.members.map((m) => [m.name, hex(m.id)])).toEqual(Object.entries(expected));
    }
  });

  it('gives a renamed member with defaults etcd’s ids (the name is not hashed)', () => {
    const b = boot(['--name', 'foo', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380']);
    expect([hex(b.memberId), hex(b.clusterId)]).toEqual(['b71f75320dc06a6c', '1c45a069f3a1d796']);
    const two = boot(['--name', 'foo', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380,http://127.0.0.1:2390']);
    expect([hex(two.memberId), hex(two.clusterId)]).toEqual(['a0c9a451fad6dfb9', '3195a95c74b8a063']);
    const v6 = boot(['--initial-advertise-peer-urls', 'http://[::1]:2380', '--initial-cluster', 'default=http://[::1]:2380']);
    expect([hex(v6.memberId), hex(v6.clusterId)]).toEqual(['9f01c01111e47e74', 'f34e429f9173d762']);
    // Upper-case scheme: Go lower-cases it before hashing.
    const upper = boot(['--initial-advertise-peer-urls', 'HTTP://127.0.0.1:2380', '--initial-cluster', 'default=http://127.0.0.1:2380']);
    expect(hex(upper.memberId)).toBe('b71f75320dc06a6c');
  });

  it('fails when its own name is missing from --initial-cluster', () => {
    expect(bootFailure(['--name', 'foo', '--initial-cluster', 'bar=http://127.0.0.1:2380'])).toBe(
      'couldn\'t find local name "foo" in the initial cluster configuration',
    );
    expect(bootFailure(['--initial-cluster', ''])).toBe('couldn\'t find local name "default" in the initial cluster configuration');
    // "foo" with --initial-cluster default=<its own URL> is not the default text, so it is kept.
    expect(bootFailure(['--name', 'foo', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380', '--initial-cluster', 'default=http://127.0.0.1:2380'])).toBe(
      'couldn\'t find local name "foo" in the initial cluster configuration',
    );
  });

  it('fails when the advertised peer URLs differ from the member’s --initial-cluster entry', () => {
    expect(bootFailure(['--initial-advertise-peer-urls', 'http://127.0.0.1:2380'])).toBe(
      '--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2380 (resolved urls: "http://127.0.0.1:2380" != "http://localhost:2380")',
    );
    expect(bootFailure(['--name', 'foo', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380', '--initial-cluster', 'foo=http://127.0.0.1:2381'])).toBe(
      '--initial-cluster has foo=http://127.0.0.1:2381 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2380 (resolved urls: "http://127.0.0.1:2380" != "http://127.0.0.1:2381")',
    );
    expect(bootFailure(['--name', 'foo', '--initial-cluster', 'foo=http://localhost:2380,foo=http://127.0.0.1:2380'])).toBe(
      '--initial-cluster has foo=http://127.0.0.1:2380 but missing from --initial-advertise-peer-urls=http://localhost:2380 (len(["http://localhost:2380"]) != len(["http://127.0.0.1:2380" "http://localhost:2380"]))',
    );
    expect(
      bootFailure(['--name', 'foo', '--initial-advertise-peer-urls', 'http://127.0.0.1:2390,http://127.0.0.1:2380', '--initial-cluster', 'foo=http://127.0.0.1:2380,foo=http://127.0.0.1:2391']),
    ).toBe(
      '--initial-cluster has foo=http://127.0.0.1:2391 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2380,http://127.0.0.1:2390 (resolved urls: "http://127.0.0.1:2390" != "http://127.0.0.1:2391")',
    );
    expect(bootFailure(['--name', 'foo', '--initial-advertise-peer-urls', 'http://127.0.0.1:2390', '--initial-cluster', 'foo=http://127.0.0.1:2380,foo=http://127.0.0.1:2381'])).toBe(
      '--initial-cluster has foo=http://127.0.0.1:2380,foo=http://127.0.0.1:2381 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2390 (len(["http://127.0.0.1:2390"]) != len(["http://127.0.0.1:2380" "http://127.0.0.1:2381"]))',
    );
    expect(bootFailure(['--name', 'foo', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380,http://127.0.0.1:2390', '--initial-cluster', 'foo=http://127.0.0.1:2380'])).toBe(
      '--initial-advertise-peer-urls has http://127.0.0.1:2390 but missing from --initial-cluster=foo=http://127.0.0.1:2380,foo=http://127.0.0.1:2390',
    );
  });

  it('fails when two members share a peer URL', () => {
    expect(bootFailure(['--initial-cluster', 'default=http://localhost:2380,bar=http://localhost:2380'])).toBe(
      'initial cluster bar=http://localhost:2380,default=http://localhost:2380 has duplicate url',
    );
  });
});

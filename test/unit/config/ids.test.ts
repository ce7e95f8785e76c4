import { describe, expect, it } from 'vitest';
import { computeClusterId, computeMemberId } from '../../../src/config/ids.js';
import { bootstrapMembers, ConfigError, parseConfig } from '../../../src/config/flags.js';
import { hex } from '../../../src/base/int64.js';

describe('member and cluster ids equal etcd’s', () => {
  it('gives etcd’s ids for its documented single-member examples', () => {
    // Checked against a real etcd 3.4.23 (ETCD-FACTS §1.3).
    const m = computeMemberId(['http://127.0.0.1:2380'], 'etcd-cluster');
    expect(hex(m)).toBe('b71f75320dc06a6c');
    expect(computeClusterId([m])).toBe(2037210783374497686n);
    // A bare `etcd` (localhost defaults) is the well-known 8e9e05c52164694d.
    expect(hex(computeMemberId(['http://localhost:2380'], 'etcd-cluster'))).toBe('8e9e05c52164694d');
  });

  it('derives the bootstrap member list from the flags', () => {
    const { config } = parseConfig(
      [
        '--name', 'etcd-2',
        '--initial-advertise-peer-urls', 'http://127.0.0.1:12380',
        '--initial-cluster', 'etcd-1=http://127.0.0.1:2380,etcd-2=http://127.0.0.1:12380',
        '--initial-cluster-token', 'etcd-cluster-1',
      ],
      {},
    );
    const b = bootstrapMembers(config);
    expect(b.members.map((m) => m.name)).toEqual(['etcd-1', 'etcd-2']);
    expect(b.memberId).toBe(computeMemberId(['http://127.0.0.1:12380'], 'etcd-cluster-1'));
    expect(b.clusterId).toBe(computeClusterId(b.members.map((m) => m.id)));
  });

  it('fails when its own name is missing from --initial-cluster', () => {
    const { config } = parseConfig(['--name', 'x', '--initial-cluster', 'y=http://127.0.0.1:2380'], {});
    expect(() => bootstrapMembers(config)).toThrow(ConfigError);
  });
});

describe('etcd flags and ETCD_* variables', () => {
  it('has etcd’s defaults', () => {
    const { config } = parseConfig([], {});
    expect(config.name).toBe('default');
    expect(config.dataDir).toBe('default.etcd');
    expect(config.listenClientUrls.map(String)).toEqual(['http://localhost:2379/']);
    expect(config.heartbeatIntervalMs).toBe(100);
    expect(config.electionTimeoutMs).toBe(1000);
    expect(config.maxTxnOps).toBe(128);
    expect(config.maxRequestBytes).toBe(1572864);
    expect(config.initialCluster).toEqual([{ name: 'default', peerUrls: ['http://localhost:2380'] }]);
  });

  it('reads ETCD_* variables, and the command line wins', () => {
    const { config, warnings } = parseConfig(['--name=cli'], { ETCD_NAME: 'env', ETCD_DATA_DIR: '/d', ETCD_BOGUS: '1' });
    expect(config.name).toBe('cli');
    expect(config.dataDir).toBe('/d');
    expect(warnings.some((w) => w.includes('ETCD_BOGUS'))).toBe(true);
  });

  it('accepts Go flag syntax: single dash, =value, bare booleans', () => {
    const { config } = parseConfig(['-name', 'a', '--heartbeat-interval=200', '--election-timeout', '2000', '--pre-vote=false'], {});
    expect([config.name, config.heartbeatIntervalMs, config.electionTimeoutMs, config.preVote]).toEqual(['a', 200, 2000, false]);
    expect(config.electionTicks).toBe(10);
  });

  it('fails on unknown flags and bad values, naming them', () => {
    expect(() => parseConfig(['--nope'], {})).toThrow('flag provided but not defined: -nope');
    expect(() => parseConfig(['--heartbeat-interval', 'x'], {})).toThrow('invalid value "x" for flag -heartbeat-interval');
    expect(() => parseConfig(['--listen-client-urls', 'foo'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--heartbeat-interval', '300'], {})).toThrow(
      '--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]',
    );
  });
});

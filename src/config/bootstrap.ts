/**
 * The bootstrap member list of a new cluster, with etcd's ids, and etcd's checks on it
 * (etcdserver ServerConfig.VerifyBootstrap, in etcd's order: own name present, own advertised
 * peer URLs equal to its --initial-cluster entry, no URL used twice), with etcd 3.4.23's messages.
 *
 * One difference: etcd resolves DNS names in the two URL lists before declaring them different;
 * etcdts compares the URL text (IP literals and identical names behave the same).
 */
import { ConfigError } from './config-error.js';
import type { InitialMember, ServerConfig } from './flags.js';
import { computeClusterId, computeMemberId } from './ids.js';

export interface BootstrapMember {
  id: bigint;
  name: string;
  peerUrls: string[];
}

export interface Bootstrap {
  /** This member's id. */
  memberId: bigint;
  clusterId: bigint;
  /** Sorted by name, as --initial-cluster is read. */
  members: BootstrapMember[];
}

/** Go's %q of a []string: ["a" "b"]. */
function goQuoteList(xs: readonly string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
}

/** netutil.URLStringsEqual's reason for two sorted lists that differ. */
function urlsDifference(a: readonly string[], b: readonly string[]): string {
  if (a.length !== b.length) return `len(${goQuoteList(a)}) != len(${goQuoteList(b)})`;
  const i = a.findIndex((u, k) => u !== b[k]);
  return `resolved urls: ${JSON.stringify(a[i] ?? '')} != ${JSON.stringify(b[i] ?? '')}`;
}

/** The text etcd prints for an initial cluster (URLsMap.String(): sorted name=url pairs). */
export function initialClusterString(members: readonly InitialMember[]): string {
  return members
    .flatMap((m) => m.peerUrls.map((u) => `${m.name}=${u}`))
    .sort()
    .join(',');
}

/** The initial member list with ids; throws ConfigError on etcd's bootstrap misconfigurations. */
export function bootstrapMembers(cfg: Pick<ServerConfig, 'name' | 'initialCluster' | 'initialClusterToken' | 'initialAdvertisePeerUrls'>): Bootstrap {
  const self = cfg.initialCluster.find((m) => m.name === cfg.name);
  if (self === undefined) {
    throw new ConfigError(`couldn't find local name ${JSON.stringify(cfg.name)} in the initial cluster configuration`, 'initial-cluster');
  }
  const advertised = [...cfg.initialAdvertisePeerUrls].sort();
  const listed = [...self.peerUrls].sort();
  const same = advertised.length === listed.length && advertised.every((u, i) => u === listed[i]);
  if (!same) {
    const notAdvertised = listed.filter((u) => !advertised.includes(u));
    if (notAdvertised.length > 0) {
      throw new ConfigError(
        `--initial-cluster has ${notAdvertised.map((u) => `${cfg.name}=${u}`).join(',')} but missing from ` +
          `--initial-advertise-peer-urls=${advertised.join(',')} (${urlsDifference(advertised, listed)})`,
        'initial-advertise-peer-urls',
      );
    }
    const notListed = advertised.filter((u) => !listed.includes(u));
    throw new ConfigError(
      `--initial-advertise-peer-urls has ${notListed.join(',')} but missing from ` +
        `--initial-cluster=${advertised.map((u) => `${cfg.name}=${u}`).join(',')}`,
      'initial-advertise-peer-urls',
    );
  }
  const seen = new Set<string>();
  for (const u of cfg.initialCluster.flatMap((m) => m.peerUrls)) {
    if (seen.has(u)) throw new ConfigError(`initial cluster ${initialClusterString(cfg.initialCluster)} has duplicate url`, 'initial-cluster');
    seen.add(u);
  }
  const members = cfg.initialCluster.map((m) => ({
    id: computeMemberId(m.peerUrls, cfg.initialClusterToken),
    name: m.name,
    peerUrls: [...m.peerUrls],
  }));
  const memberId = computeMemberId(self.peerUrls, cfg.initialClusterToken);
  return { memberId, clusterId: computeClusterId(members.map((m) => m.id)), members };
}

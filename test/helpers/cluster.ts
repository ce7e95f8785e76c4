/**
 * Real multi-member clusters (etcdts or etcd) on free loopback ports, started with etcd's
 * static-bootstrap flags, with the means to kill, restart and find the leader of members.
 */
import * as grpc from '@grpc/grpc-js';
import { MaintenanceClient } from '../../src/api/proto.js';
import { freePort, type MemberProc, type MemberSpec, startMember, tempDir, waitFor } from './procs.js';

export interface Cluster {
  kind: 'etcdts' | 'etcd';
  specs: MemberSpec[];
  members: (MemberProc | null)[];
  /** Comma-separated host:port list for --endpoints. */
  endpoints(): string;
  endpoint(i: number): string;
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  restart(i: number, env?: Record<string, string>): Promise<MemberProc>;
  /** Index of the member every live member agrees is the leader (waits for one). */
  leader(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  size: number;
  token?: string;
  names?: string[];
  /** Extra flags for every member (e.g. timings, snapshot count). */
  args?: string[];
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** Fixed ports (to start etcd and etcdts with the very same flags, hence the same ids). */
  ports?: { client: number; peer: number }[];
  /** https peer URLs (peer TLS flags go in args / memberArgs). */
  peerScheme?: 'http' | 'https';
  /** Extra flags of member i (e.g. its own peer certificate). */
  memberArgs?: (i: number) => string[];
  /** Start without waiting for every member to be healthy (a member expected never to join). */
  waitHealthy?: (i: number) => boolean;
}

/** Free ports for a cluster of `size`. */
export async function clusterPorts(size: number): Promise<{ client: number; peer: number }[]> {
  // freePort may hand out a port twice (it is free again once probed): keep them distinct.
  const seen = new Set<number>();
  const distinct = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!seen.has(p)) {
        seen.add(p);
        return p;
      }
    }
  };
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await distinct(), peer: await distinct() });
  return ports;
}

/** Maintenance.Status of one member (leader id, raft term...), or null when it does not answer. */
export function memberStatus(endpoint: string, timeoutMs = 2000): Promise<{ leader: string; header: { member_id: string; raft_term: string } } | null> {
  const c = new MaintenanceClient(endpoint, grpc.credentials.createInsecure()) as unknown as grpc.Client &
    Record<string, (r: unknown, o: grpc.CallOptions, cb: (e: unknown, r: unknown) => void) => void>;
  return new Promise((resolve) => {
    (c.Status as (r: unknown, o: grpc.CallOptions, cb: (e: unknown, r: unknown) => void) => void).call(c, {}, { deadline: Date.now() + timeoutMs }, (e, r) => {
      c.close();
      resolve(e ? null : (r as never));
    });
  });
}

export async function startCluster(kind: 'etcdts' | 'etcd', opts: ClusterOptions): Promise<Cluster> {
  const names = opts.names ?? Array.from({ length: opts.size }, (_, i) => `etcd-${i + 1}`);
  const dir = tempDir(`${kind}-cluster-`);
  const ports = opts.ports ?? (await clusterPorts(opts.size));
  const peerScheme = opts.peerScheme ?? 'http';
  const initialCluster = names.map((n, i) => `${n}=${peerScheme}://127.0.0.1:${ports[i]?.peer}`).join(',');
  const specs: MemberSpec[] = names.map((name, i) => ({
    kind,
    name,
    dataDir: `${dir}/${name}.etcd`,
    clientPort: ports[i]?.client,
    peerPort: ports[i]?.peer,
    initialCluster,
    args: ['--initial-cluster-token', opts.token ?? 'etcd-cluster-1', '--initial-cluster-state', 'new', ...(opts.args ?? []), ...(opts.memberArgs?.(i) ?? [])],
    env: opts.env,
    nodeArgs: opts.nodeArgs,
    peerScheme,
    waitHealthy: opts.waitHealthy?.(i),
  }));
  const members: (MemberProc | null)[] = await Promise.all(specs.map((s) => startMember(s)));
  const c: Cluster = {
    kind,
    specs,
    members,
    endpoint: (i) => `127.0.0.1:${specs[i]?.clientPort}`,
    endpoints: () => specs.map((s) => `127.0.0.1:${s.clientPort}`).join(','),
    async kill(i, signal = 'SIGKILL') {
      await members[i]?.kill(signal);
      members[i] = null;
    },
    async restart(i, env) {
      const spec = specs[i] as MemberSpec;
      const m = await startMember({ ...spec, env: { ...spec.env, ...env } });
      members[i] = m;
      return m;
    },
    async leader(timeoutMs = 30_000) {
      let found = -1;
      await waitFor(
        'one leader all live members agree on',
        async () => {
          const live = specs.map((_, i) => i).filter((i) => members[i] !== null);
          const sts = await Promise.all(live.map((i) => memberStatus(c.endpoint(i))));
          if (sts.some((s) => s === null)) return false;
          const leaders = new Set(sts.map((s) => (s as { leader: string }).leader));
          if (leaders.size !== 1) return false;
          const lead = [...leaders][0] as string;
          const idx = live.find((_, k) => sts[k]?.header.member_id === lead);
          if (idx === undefined || lead === '0') return false;
          found = idx;
          return true;
        },
        timeoutMs,
      );
      return found;
    },
    async stop() {
      await Promise.all(members.map((m) => m?.kill('SIGKILL')));
    },
  };
  return c;
}

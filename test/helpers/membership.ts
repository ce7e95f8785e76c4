/**
 * Runtime membership steps on real clusters (etcdts or etcd), driven with an etcdctl-compatible
 * command (ctl or the real etcdctl): add a member (retrying while the strict reconfiguration
 * check says the cluster is not yet healthy — peers count as connected after 5 s), start it with
 * the ETCD_* lines `member add` printed, promote it once it caught up.
 */
import { type Cluster } from './cluster.js';
import { freePort, type MemberProc, type RunResult, startMember, tempDir, waitFor } from './procs.js';

export type Ctl = (endpoint: string, args: string[]) => Promise<RunResult>;

/** Retries a ctl command while it fails with one of the `transient` error texts. */
export async function ctlRetry(run: Ctl, endpoint: string, args: string[], transient: string[], deadlineMs = 60_000): Promise<RunResult> {
  let last: RunResult | undefined;
  await waitFor(
    `${args.join(' ')} to succeed`,
    async () => {
      last = await run(endpoint, args);
      if (last.code === 0) return true;
      if (transient.some((t) => last?.stderr.includes(t))) return false;
      throw new Error(`${args.join(' ')} failed: ${last.stderr}`);
    },
    deadlineMs,
    500,
  ).catch((e: unknown) => {
    if (last && last.code !== 0 && !transient.some((t) => last?.stderr.includes(t))) throw e;
    throw new Error(`${String(e)}; last: ${JSON.stringify(last)}`);
  });
  return last as RunResult;
}

export const notYetHealthy = ['unhealthy cluster', 'not enough started members', 'request timed out'];

/** The ETCD_* lines of `member add` output. */
export function parseAddOutput(stdout: string): { id: string; env: Record<string, string> } {
  const id = /^Member\s+([0-9a-f]+) added to cluster/m.exec(stdout)?.[1];
  if (!id) throw new Error(`no member id in ${JSON.stringify(stdout)}`);
  const env: Record<string, string> = {};
  for (const m of stdout.matchAll(/^(ETCD_[A-Z_]+)="(.*)"$/gm)) env[m[1] as string] = m[2] as string;
  return { id, env };
}

export interface AddedMember {
  id: string;
  proc: MemberProc;
  addOutput: string;
}

/** `member add` through `endpoint`, then start the new member with the printed ETCD_* lines. */
export async function addAndStart(
  c: Cluster,
  run: Ctl,
  endpoint: string,
  name: string,
  opts: { learner?: boolean; args?: string[]; token?: string; ports?: { client: number; peer: number } } = {},
): Promise<AddedMember> {
  const clientPort = opts.ports?.client ?? (await freePort());
  const peerPort = opts.ports?.peer ?? (await freePort());
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const add = await ctlRetry(run, endpoint, ['member', 'add', name, `--peer-urls=${peerUrl}`, ...(opts.learner ? ['--learner'] : [])], notYetHealthy);
  const { id, env } = parseAddOutput(add.stdout);
  const proc = await startMember({
    kind: c.kind,
    name,
    dataDir: `${tempDir(`${c.kind}-join-`)}/${name}.etcd`,
    clientPort,
    peerPort,
    initialCluster: env.ETCD_INITIAL_CLUSTER,
    args: ['--initial-cluster-token', opts.token ?? 'etcd-cluster-1', '--initial-cluster-state', env.ETCD_INITIAL_CLUSTER_STATE ?? 'existing', ...(opts.args ?? [])],
  });
  return { id, proc, addOutput: add.stdout };
}

/** `member promote`, retried while the learner is not yet in sync (or the cluster not healthy). */
export function promote(run: Ctl, endpoint: string, id: string): Promise<RunResult> {
  return ctlRetry(run, endpoint, ['member', 'promote', id], ['in sync with leader', ...notYetHealthy]);
}

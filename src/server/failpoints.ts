/**
 * Named failpoints in the raft loop and the apply path, after etcd's gofail points
 * (`raftBeforeSave`, `raftAfterSave`, ...): tests arm one, and the member fails there the way a
 * crash or a bug would make it fail.
 *
 * Actions:
 * - `panic`: throw a FailpointPanic where the point is; in the loop that is a fatal error, so
 *   the member logs the reason and (under bin/etcdts) exits non-zero, as etcd panics.
 * - `kill`: SIGKILL the process on the spot (a crash with no chance to clean up; kill -9).
 *
 * Armed from the environment as etcd's GOFAIL_FAILPOINTS is: `ETCDTS_FAILPOINTS="name=action;
 * name2=action"`. The older `ETCDTS_CRASH_AT=before-persist|after-persist|after-apply` still
 * arms raftBeforeSave / raftAfterSave / raftAfterApply with `kill`.
 *
 * Invariant: an unarmed point costs one Map lookup on an empty map; no point fires outside a
 * Ready that carries a client request (the server decides that), so start-up survives.
 */
export const failpointNames = [
  'raftBeforeSave',
  'raftAfterSave',
  'raftBeforeApplySnap',
  'raftAfterApplySnap',
  'raftBeforeApply',
  'raftAfterApply',
  'backendBeforeCommit',
] as const;

export type FailpointName = (typeof failpointNames)[number];
export type FailpointAction = 'panic' | 'kill';

export class FailpointPanic extends Error {
  constructor(readonly point: FailpointName) {
    super(`failpoint ${point}: panic`);
    this.name = 'FailpointPanic';
  }
}

export class FailpointError extends Error {}

const legacyCrashPoints: Record<string, FailpointName> = {
  'before-persist': 'raftBeforeSave',
  'after-persist': 'raftAfterSave',
  'after-apply': 'raftAfterApply',
};

export type Failpoints = ReadonlyMap<FailpointName, FailpointAction>;

/** Parses ETCDTS_FAILPOINTS (and the legacy ETCDTS_CRASH_AT); throws FailpointError on a typo. */
export function parseFailpoints(env: NodeJS.ProcessEnv): Map<FailpointName, FailpointAction> {
  const out = new Map<FailpointName, FailpointAction>();
  const legacy = env.ETCDTS_CRASH_AT;
  if (legacy) {
    const name = legacyCrashPoints[legacy];
    if (name === undefined) throw new FailpointError(`ETCDTS_CRASH_AT: unknown crash point ${JSON.stringify(legacy)}`);
    out.set(name, 'kill');
  }
  for (const part of (env.ETCDTS_FAILPOINTS ?? '').split(';')) {
    if (part.trim() === '') continue;
    const [name, action] = part.split('=').map((s) => s.trim());
    if (!failpointNames.includes(name as FailpointName)) {
      throw new FailpointError(`ETCDTS_FAILPOINTS: unknown failpoint ${JSON.stringify(name)} (known: ${failpointNames.join(', ')})`);
    }
    if (action !== 'panic' && action !== 'kill') throw new FailpointError(`ETCDTS_FAILPOINTS: ${name}: unknown action ${JSON.stringify(action)} (panic or kill)`);
    out.set(name as FailpointName, action);
  }
  return out;
}

/** Carries out an armed point's action (see the header). */
export function fire(point: FailpointName, action: FailpointAction): void {
  if (action === 'kill') process.kill(process.pid, 'SIGKILL');
  throw new FailpointPanic(point);
}

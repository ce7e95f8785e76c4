/**
 * Cluster: members (name, id, URLs, leader, learner), each member's own status (raft term and
 * index, DB size) and health, asked of that member at its client URL, and the cluster's alarms;
 * move leader, promote a learner, defragment, each after a confirm.
 */
import { useState } from 'preact/hooks';
import type { Member, StatusResult } from '../api.js';
import { errorText, gw } from '../app-state.js';
import { formatBytes, idHex } from '../bytes.js';
import { askConfirm, notify, usePoll } from '../widgets.js';

interface MemberView {
  m: Member;
  /** The URL to reach this member at ('' = the member serving this page). */
  base: string;
  status: StatusResult | null;
  statusError: string | null;
  health: { ok: boolean; reason: string } | null;
}

const alarmNames: Record<string, string> = { '1': 'NOSPACE', '2': 'CORRUPT' };

async function healthOf(base: string): Promise<{ ok: boolean; reason: string }> {
  try {
    const r = await fetch(`${base === '' ? gw.base : base}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await r.json()) as { health?: string; reason?: string };
    return { ok: r.ok && body.health === 'true', reason: body.reason ?? '' };
  } catch (e) {
    return { ok: false, reason: errorText(e) };
  }
}

export function ClusterView() {
  const [members, setMembers] = useState<MemberView[]>([]);
  const [self, setSelf] = useState('');
  const [clusterId, setClusterId] = useState('');
  const [alarms, setAlarms] = useState<{ memberID?: string; alarm?: string | number }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = async (): Promise<void> => {
    try {
      const list = await gw.memberList({ timeoutMs: 3000 });
      const me = list.header.member_id ?? '';
      setSelf(me);
      setClusterId(list.header.cluster_id ?? '');
      const views = await Promise.all(
        list.members.map(async (m): Promise<MemberView> => {
          const base = m.ID === me ? '' : (m.clientURLs?.[0] ?? null);
          if (base === null) return { m, base: '', status: null, statusError: 'not started (no client URL yet)', health: null };
          const [status, health] = await Promise.all([
            gw.status({ base: base === '' ? undefined : base, timeoutMs: 2000 }).then(
              (s) => ({ s, err: null }),
              (e: unknown) => ({ s: null, err: errorText(e) }),
            ),
            healthOf(base),
          ]);
          return { m, base, status: status.s, statusError: status.err, health };
        }),
      );
      setMembers(views.sort((a, b) => (a.m.name ?? '').localeCompare(b.m.name ?? '') || a.m.ID.localeCompare(b.m.ID)));
      setAlarms(await gw.alarms().catch(() => []));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };
  usePoll(refresh, 2000);

  const leader = members.map((v) => v.status?.leader).find((l) => l !== undefined && l !== '0') ?? '';
  const leaderView = members.find((v) => v.m.ID === leader);

  const act = async (what: () => Promise<unknown>, done: string): Promise<void> => {
    setBusy(true);
    try {
      await what();
      notify(done);
    } catch (e) {
      notify(errorText(e), true);
    } finally {
      setBusy(false);
      await refresh();
    }
  };
  const moveLeader = async (v: MemberView): Promise<void> => {
    if (leaderView === undefined) return notify('No leader to move leadership from', true);
    const ok = await askConfirm({
      title: 'Move leader',
      body: (
        <p>
          Transfer leadership from <strong>{leaderView.m.name || idHex(leader)}</strong> to <strong>{v.m.name || idHex(v.m.ID)}</strong>? Writes pause briefly while the new leader takes over.
        </p>
      ),
      action: 'Move leader',
      danger: false,
    });
    // etcd serves MoveLeader on the leader only.
    if (ok) await act(() => gw.moveLeader(v.m.ID, { base: leaderView.base === '' ? undefined : leaderView.base, timeoutMs: 15_000 }), `Leadership moved to ${v.m.name || idHex(v.m.ID)}`);
  };
  const promote = async (v: MemberView): Promise<void> => {
    const ok = await askConfirm({ title: 'Promote learner', body: <p>Promote learner <strong>{v.m.name || idHex(v.m.ID)}</strong> to a voting member?</p>, action: 'Promote', danger: false });
    if (ok) await act(() => gw.promote(v.m.ID), `Promoted ${v.m.name || idHex(v.m.ID)}`);
  };
  const defrag = async (v: MemberView): Promise<void> => {
    const ok = await askConfirm({
      title: 'Defragment',
      body: <p>Defragment <strong>{v.m.name || idHex(v.m.ID)}</strong>? The member blocks reads and writes while it rewrites its database.</p>,
      action: 'Defragment',
    });
    if (ok) await act(() => gw.defragment({ base: v.base === '' ? undefined : v.base, timeoutMs: 60_000 }), `Defragmented ${v.m.name || idHex(v.m.ID)}`);
  };

  return (
    <div class="cluster-view">
      <p class="muted">
        Cluster {clusterId ? idHex(clusterId) : '…'} · {members.length} members · this page is served by {members.find((v) => v.m.ID === self)?.m.name ?? '…'}
      </p>
      {error && <p class="error">{error}</p>}
      <div class="table-scroll">
        <table class="members cards-sm" aria-label="Members">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">Role</th>
              <th scope="col">Health</th>
              <th scope="col">Raft term</th>
              <th scope="col">Raft index</th>
              <th scope="col">DB size</th>
              <th scope="col">Version</th>
              <th scope="col">URLs</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {members.map((v) => {
              const s = v.status;
              const isLeader = v.m.ID === leader;
              const role = v.m.isLearner ? 'learner' : isLeader ? 'leader' : 'follower';
              return (
                <tr key={v.m.ID} data-member={v.m.name ?? ''} data-role={role}>
                  <th scope="row">
                    {v.m.name || '(unstarted)'}
                    {v.m.ID === self && <span class="badge">this member</span>}
                  </th>
                  <td data-label="ID" class="mono">{idHex(v.m.ID)}</td>
                  <td data-label="Role">
                    <span class={`role ${role}`}>{role}</span>
                  </td>
                  <td data-label="Health">{v.health === null ? '–' : v.health.ok ? <span class="ok">healthy</span> : <span class="bad" title={v.health.reason}>unhealthy{v.health.reason ? `: ${v.health.reason}` : ''}</span>}</td>
                  <td data-label="Raft term">{s?.raftTerm ?? '–'}</td>
                  <td data-label="Raft index" title={s?.raftAppliedIndex ? `applied ${s.raftAppliedIndex}` : undefined}>
                    {s?.raftIndex ?? '–'}
                    {s?.raftAppliedIndex && s.raftAppliedIndex !== s.raftIndex && <span class="muted small"> (applied {s.raftAppliedIndex})</span>}
                  </td>
                  <td data-label="DB size" class="nowrap" title={s?.dbSizeInUse ? `${formatBytes(Number(s.dbSizeInUse))} in use` : undefined}>
                    {s ? formatBytes(Number(s.dbSize ?? 0)) : '–'}
                    {s?.dbSizeInUse && <span class="muted small"> ({formatBytes(Number(s.dbSizeInUse))} used)</span>}
                  </td>
                  <td data-label="Version">{s?.version ?? (v.statusError ? <span class="bad" title={v.statusError}>unreachable</span> : '–')}</td>
                  <td data-label="URLs" class="mono small">
                    <div>
                      <span class="muted">client</span> {(v.m.clientURLs ?? []).join(', ') || '–'}
                    </div>
                    <div>
                      <span class="muted">peer</span> {(v.m.peerURLs ?? []).join(', ')}
                    </div>
                  </td>
                  <td data-label="Actions">
                    <div class="actions">
                    {!isLeader && !v.m.isLearner && (
                      <button type="button" disabled={busy || leaderView === undefined} onClick={() => void moveLeader(v)}>
                        Make leader
                      </button>
                    )}
                    {v.m.isLearner && (
                      <button type="button" disabled={busy} onClick={() => void promote(v)}>
                        Promote
                      </button>
                    )}
                    <button type="button" disabled={busy || s === null} onClick={() => void defrag(v)}>
                      Defragment
                    </button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <section aria-label="Alarms">
        <h3>Alarms</h3>
        {alarms.length === 0 ? (
          <p class="ok">No alarms.</p>
        ) : (
          <ul>
            {alarms.map((a) => (
              <li class="bad">
                {alarmNames[String(a.alarm)] ?? String(a.alarm)} on member {members.find((v) => v.m.ID === a.memberID)?.m.name ?? idHex(a.memberID)}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

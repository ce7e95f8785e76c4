/** Leases: every lease with its TTL counting down, the keys attached to it; grant and revoke. */
import { useState } from 'preact/hooks';
import { errorText, gw, routeHref } from '../app-state.js';
import { idHex, label, toBase64Url, type Bytes } from '../bytes.js';
import { askConfirm, notify, useNow, usePoll } from '../widgets.js';

interface LeaseView {
  id: string;
  ttl: number;
  grantedTtl: number;
  keys: Bytes[];
  /** When ttl was read (the countdown runs from there). */
  at: number;
}

/** Most leases whose details are fetched in one refresh. */
const detailMax = 200;

export function LeasesView({ params }: { params: URLSearchParams }) {
  const [leases, setLeases] = useState<LeaseView[]>([]);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [ttl, setTtl] = useState('60');
  const now = useNow(250);
  const highlight = params.get('id') ?? '';

  const refresh = async (): Promise<void> => {
    try {
      const ids = await gw.leases();
      setTotal(ids.length);
      const views = await Promise.all(
        ids.slice(0, detailMax).map(async (id) => {
          const t = await gw.timeToLive(id);
          return { id, ttl: t.ttl, grantedTtl: t.grantedTtl, keys: t.keys, at: Date.now() };
        }),
      );
      setLeases(views.filter((v) => v.ttl >= 0).sort((a, b) => a.ttl - b.ttl));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };
  usePoll(refresh, 5000);

  const grant = async (e: Event): Promise<void> => {
    e.preventDefault();
    try {
      const r = await gw.grant(Number(ttl));
      notify(`Lease ${idHex(r.ID)} granted with TTL ${r.TTL}s`);
      await refresh();
    } catch (err) {
      notify(errorText(err), true);
    }
  };
  const revoke = async (l: LeaseView): Promise<void> => {
    const ok = await askConfirm({
      title: 'Revoke lease',
      body: (
        <p>
          Revoke lease <code>{idHex(l.id)}</code>? Its {l.keys.length} attached {l.keys.length === 1 ? 'key is' : 'keys are'} deleted with it.
        </p>
      ),
      action: 'Revoke',
    });
    if (!ok) return;
    try {
      await gw.revoke(l.id);
      notify(`Lease ${idHex(l.id)} revoked`);
    } catch (err) {
      notify(errorText(err), true);
    }
    await refresh();
  };

  return (
    <div class="leases-view">
      <form class="row wrap" onSubmit={(e) => void grant(e)} aria-label="Grant a lease">
        <label>
          TTL (seconds)
          <input name="ttl" inputMode="numeric" size={6} value={ttl} onInput={(e) => setTtl((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Grant lease</button>
        <span class="muted">
          {total} {total === 1 ? 'lease' : 'leases'}
          {total > detailMax ? ` (details of the first ${detailMax})` : ''}
        </span>
      </form>
      {error && <p class="error">{error}</p>}
      <div class="table-scroll">
        <table class="leases cards-sm" aria-label="Leases">
          <thead>
            <tr>
              <th scope="col">Lease</th>
              <th scope="col">Remaining</th>
              <th scope="col">Granted TTL</th>
              <th scope="col">Keys</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {leases.map((l) => {
              const left = Math.max(0, Math.ceil(l.ttl - (now - l.at) / 1000));
              const hex = idHex(l.id);
              return (
                <tr key={l.id} data-lease={hex} class={hex === highlight ? 'selected' : ''}>
                  <th scope="row" class="mono">
                    {hex}
                  </th>
                  <td data-label="Remaining">
                    <span class="ttl" data-ttl={left}>
                      {left}s
                    </span>
                    <meter min={0} max={l.grantedTtl || 1} value={left} aria-label="Remaining TTL" />
                  </td>
                  <td data-label="Granted TTL">{l.grantedTtl}s</td>
                  <td data-label="Keys">
                    {l.keys.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <ul class="plain">
                        {l.keys.slice(0, 20).map((k) => (
                          <li>
                            <a href={routeHref('keys', { key: toBase64Url(k) })}>{label(k)}</a>
                          </li>
                        ))}
                        {l.keys.length > 20 && <li class="muted">and {l.keys.length - 20} more</li>}
                      </ul>
                    )}
                  </td>
                  <td data-label="Actions">
                    <button type="button" class="danger" onClick={() => void revoke(l)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {leases.length === 0 && !error && <p class="muted">No leases.</p>}
    </div>
  );
}

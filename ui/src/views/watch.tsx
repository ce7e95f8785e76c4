/**
 * Live watch: a key or prefix from a revision (or from now), events as they come (PUT/DELETE,
 * with the previous value), pause (events are kept, not shown) and clear. The stream resumes
 * at the next revision after the member comes back (watcher.ts).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { WatchEvent } from '../api.js';
import { gw, routeHref } from '../app-state.js';
import { fromBase64, fromLabel, label, prefixEnd, toBase64Url } from '../bytes.js';
import { preview } from '../value-format.js';
import { ResumingWatch, type WatchState } from '../watcher.js';

const shownMax = 2000;

interface Row {
  seq: number;
  revision: number;
  ev: WatchEvent;
}

function stateText(s: WatchState): string {
  switch (s.kind) {
    case 'connecting':
      return 'Connecting…';
    case 'watching':
      return `Watching (created at revision ${s.revision})`;
    case 'reconnecting':
      return `Reconnecting (${s.error}); resuming at revision ${s.nextRevision ?? 'now'}…`;
    case 'compacted':
      return `Stopped: the start revision was compacted (compacted revision ${s.compactRevision}); start again from ${s.compactRevision} or later.`;
    case 'canceled':
      return `Stopped by the server: ${s.reason}`;
    case 'stopped':
      return 'Stopped.';
  }
}

export function WatchView({ params }: { params: URLSearchParams }) {
  const [key, setKey] = useState(params.has('key') ? label(fromBase64(params.get('key') ?? '')) : '');
  const [isPrefix, setIsPrefix] = useState(params.get('prefix') === '1');
  const [fromRev, setFromRev] = useState('');
  const [prevKv, setPrevKv] = useState(true);
  const [state, setState] = useState<WatchState>({ kind: 'stopped' });
  const [rows, setRows] = useState<Row[]>([]);
  const [paused, setPaused] = useState(false);
  const [heldCount, setHeldCount] = useState(0);
  const held = useRef<Row[]>([]);
  const pausedRef = useRef(false);
  const watch = useRef<ResumingWatch | null>(null);
  const seq = useRef(0);
  const running = watch.current !== null && state.kind !== 'stopped' && state.kind !== 'compacted' && state.kind !== 'canceled';

  useEffect(() => () => watch.current?.stop(), []);

  const push = (add: Row[]): void => setRows((r) => [...add.reverse(), ...r].slice(0, shownMax));

  const start = (e: Event): void => {
    e.preventDefault();
    watch.current?.stop();
    // No key: every key (etcd's key "\0" with range end "\0").
    const k = key === '' ? new Uint8Array([0]) : fromLabel(key);
    const rangeEnd = key === '' ? new Uint8Array([0]) : isPrefix ? prefixEnd(k) : undefined;
    const rev = Number(fromRev);
    watch.current = new ResumingWatch(
      gw,
      { key: k, rangeEnd, startRevision: Number.isInteger(rev) && rev > 0 ? rev : undefined, prevKv },
      {
        onEvents: (events, revision) => {
          const add = events.map((ev) => ({ seq: ++seq.current, revision, ev }));
          if (pausedRef.current) {
            held.current.push(...add);
            setHeldCount(held.current.length);
          } else push(add);
        },
        onState: setState,
      },
    );
  };
  const stop = (): void => {
    watch.current?.stop();
    watch.current = null;
  };
  const togglePause = (): void => {
    pausedRef.current = !pausedRef.current;
    setPaused(pausedRef.current);
    if (!pausedRef.current && held.current.length > 0) {
      push(held.current);
      held.current = [];
      setHeldCount(0);
    }
  };
  const clear = (): void => {
    setRows([]);
    held.current = [];
    setHeldCount(0);
  };

  return (
    <div class="watch-view">
      <form class="row wrap" onSubmit={start} aria-label="Watch settings">
        <label class="grow">
          Key
          <input name="watch-key" value={key} placeholder="key or prefix" onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={isPrefix} onChange={(e) => setIsPrefix((e.target as HTMLInputElement).checked)} /> Prefix
        </label>
        <label>
          From revision
          <input name="from-revision" inputMode="numeric" size={8} value={fromRev} placeholder="now" onInput={(e) => setFromRev((e.target as HTMLInputElement).value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={prevKv} onChange={(e) => setPrevKv((e.target as HTMLInputElement).checked)} /> Previous values
        </label>
        <button type="submit" class="primary">
          {running ? 'Restart' : 'Start'}
        </button>
        <button type="button" onClick={stop} disabled={!running}>
          Stop
        </button>
        <button type="button" onClick={togglePause} aria-pressed={paused}>
          {paused ? `Resume (${heldCount} held)` : 'Pause'}
        </button>
        <button type="button" onClick={clear}>
          Clear
        </button>
      </form>
      <p class="watch-state" role="status">
        {stateText(state)}
      </p>
      <table class="events" aria-label="Watch events">
        <thead>
          <tr>
            <th scope="col">Revision</th>
            <th scope="col">Event</th>
            <th scope="col">Key</th>
            <th scope="col">Value</th>
            <th scope="col">Previous value</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.seq} class={r.ev.type === 'DELETE' ? 'deleted' : ''}>
              <td>{r.ev.kv.modRevision}</td>
              <td>{r.ev.type}</td>
              <td>
                <a href={routeHref('keys', { key: toBase64Url(r.ev.kv.key) })}>{label(r.ev.kv.key)}</a>
              </td>
              <td class="event-value">{r.ev.type === 'PUT' ? preview(r.ev.kv.value) : ''}</td>
              <td class="event-prev">{r.ev.prevKv ? preview(r.ev.prevKv.value) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p class="muted">No events yet.</p>}
    </div>
  );
}

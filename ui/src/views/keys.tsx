/**
 * Keys: the key space as a lazy folder tree (tree.ts), search by prefix, a key's value (text,
 * JSON, hex) with its revisions, version and lease, put, delete, delete a prefix, and a key's
 * history back to the compacted revision (history.ts).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { KeyValue } from '../api.js';
import { errorText, gw, routeHref } from '../app-state.js';
import { formatBytes, fromBase64, fromLabel, idFromHex, idHex, label, prefixEnd, textOf, utf8, type Bytes } from '../bytes.js';
import { keyHistory, type History } from '../history.js';
import { b64, go, KeyTree } from './key-tree.js';
import { modesFor, preview, renderValue, type ValueMode } from '../value-format.js';
import { askConfirm, notify } from '../widgets.js';

const searchPage = 100;

export function KeysView({ params }: { params: URLSearchParams }) {
  const key = params.has('key') ? fromBase64(params.get('key') ?? '') : null;
  const folder = params.has('prefix') ? fromBase64(params.get('prefix') ?? '') : null;
  const [search, setSearch] = useState('');
  const [putOpen, setPutOpen] = useState(false);
  const [version, setVersion] = useState(0);
  const changed = (): void => setVersion((v) => v + 1);
  const searchRef = useRef<HTMLInputElement>(null);
  // "/" focuses the search box from anywhere outside a text field (as on many sites).
  useEffect(() => {
    const on = (e: KeyboardEvent): void => {
      const t = e.target as HTMLElement | null;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || t?.closest('input, textarea, select, dialog') != null) return;
      e.preventDefault();
      searchRef.current?.focus();
    };
    document.addEventListener('keydown', on);
    return () => document.removeEventListener('keydown', on);
  }, []);
  return (
    <div class="split">
      <section class="pane tree-pane" aria-label="Key tree">
        <div class="row">
          <label class="grow">
            <span class="sr-only">Search keys by prefix</span>
            <input ref={searchRef} type="search" placeholder="Search by prefix… ( / )" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
          </label>
          <button type="button" onClick={() => setPutOpen(true)} title="Put a new key">
            New key
          </button>
          <button type="button" onClick={changed} title="Reload the tree" aria-label="Reload the tree">
            ⟳
          </button>
        </div>
        {search === '' ? <KeyTree version={version} selected={key ?? folder} /> : <SearchResults prefix={fromLabel(search)} version={version} selected={key} />}
      </section>
      <section class="pane detail-pane" aria-label="Details">
        {putOpen && <PutForm onDone={(k) => (setPutOpen(false), changed(), k && go({ key: b64(k) }))} />}
        {!putOpen && key !== null && <KeyPanel key={b64(key)} k={key} onChanged={changed} />}
        {!putOpen && key === null && folder !== null && <FolderPanel key={b64(folder)} prefix={folder} onChanged={changed} />}
        {!putOpen && key === null && folder === null && <p class="muted">Choose a key in the tree, search by prefix, or put a new key.</p>}
      </section>
    </div>
  );
}

// --- search --------------------------------------------------------------------------------

function SearchResults({ prefix, version, selected }: { prefix: Bytes; version: number; selected: Bytes | null }) {
  const [keys, setKeys] = useState<Bytes[]>([]);
  const [count, setCount] = useState(0);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fetchFrom = async (from: Bytes, append: boolean): Promise<void> => {
    try {
      const r = await gw.range(from, { rangeEnd: prefixEnd(prefix), limit: searchPage, keysOnly: true });
      setKeys((k) => (append ? [...k, ...r.kvs.map((kv) => kv.key)] : r.kvs.map((kv) => kv.key)));
      if (!append) setCount(r.count);
      setMore(r.more);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => {
    const t = setTimeout(() => void fetchFrom(prefix.length === 0 ? new Uint8Array([0]) : prefix, false), 150);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [b64(prefix), version]);
  const sel = selected === null ? '' : b64(selected);
  return (
    <div class="search-results">
      {error && <p class="error">{error}</p>}
      <p class="muted" aria-live="polite">
        {count} {count === 1 ? 'key' : 'keys'} with prefix “{label(prefix)}”
      </p>
      <ul class="plain" aria-label="Matching keys">
        {keys.map((k) => (
          <li key={b64(k)}>
            <a href={routeHref('keys', { key: b64(k) })} class={b64(k) === sel ? 'selected' : ''}>
              {label(k)}
            </a>
          </li>
        ))}
      </ul>
      {more && (
        <button type="button" onClick={() => void fetchFrom(new Uint8Array([...(keys[keys.length - 1] ?? []), 0]), true)}>
          Show more
        </button>
      )}
      {prefix.length > 0 && count > 0 && (
        <p>
          <a href={routeHref('keys', { prefix: b64(prefix) })}>Prefix actions (delete, watch)…</a>
        </p>
      )}
    </div>
  );
}

// --- a key ---------------------------------------------------------------------------------

function KeyPanel({ k, onChanged }: { k: Bytes; onChanged: () => void }) {
  const [kv, setKv] = useState<KeyValue | null | undefined>(undefined);
  const [revision, setRevision] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<ValueMode | null>(null);
  const [editing, setEditing] = useState(false);
  const [history, setHistory] = useState<History | null>(null);
  const [historyBusy, setHistoryBusy] = useState(false);

  const reload = async (): Promise<void> => {
    try {
      const r = await gw.range(k);
      setKv(r.kvs[0] ?? null);
      setRevision(Number(r.header.revision ?? 0));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => {
    void reload();
    setHistory(null);
    setEditing(false);
    setMode(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const del = async (): Promise<void> => {
    const ok = await askConfirm({ title: 'Delete key', body: <p>Delete <code>{label(k)}</code>?</p>, action: 'Delete' });
    if (!ok) return;
    try {
      const r = await gw.deleteRange(k);
      notify(`Deleted ${label(k)} (${r.deleted}) at revision ${r.header.revision ?? '?'}`);
      onChanged();
      await reload();
    } catch (e) {
      notify(errorText(e), true);
    }
  };

  const loadHistory = async (): Promise<void> => {
    setHistoryBusy(true);
    try {
      setHistory(await keyHistory(gw, k));
    } catch (e) {
      notify(`History: ${errorText(e)}`, true);
    } finally {
      setHistoryBusy(false);
    }
  };

  if (error) return <p class="error">{error}</p>;
  if (kv === undefined) return <p class="muted">Loading…</p>;
  const modes = kv ? modesFor(kv.value) : [];
  const m = mode ?? modes[0] ?? 'text';
  return (
    <article class="key-panel" aria-labelledby="key-title">
      <h2 id="key-title" class="key-title">
        {label(k)}
      </h2>
      {kv === null ? (
        <p class="muted">No such key at revision {revision}.</p>
      ) : editing ? (
        <PutForm initialKey={k} initialValue={kv.value} initialLease={kv.lease} onDone={(done) => (setEditing(false), done && (onChanged(), void reload()))} />
      ) : (
        <>
          <dl class="meta">
            <dt>Create revision</dt>
            <dd>{kv.createRevision}</dd>
            <dt>Mod revision</dt>
            <dd>{kv.modRevision}</dd>
            <dt>Version</dt>
            <dd>{kv.version}</dd>
            <dt>Lease</dt>
            <dd>{kv.lease === '0' ? 'none' : <a href={routeHref('leases', { id: idHex(kv.lease) })}>{idHex(kv.lease)}</a>}</dd>
            <dt>Size</dt>
            <dd>{formatBytes(kv.value.length)}</dd>
          </dl>
          <div class="row" role="tablist" aria-label="Show the value as">
            {modes.map((x) => (
              <button type="button" role="tab" aria-selected={x === m} class={x === m ? 'tab active' : 'tab'} onClick={() => setMode(x)}>
                {x === 'json' ? 'JSON' : x === 'hex' ? 'Hex' : 'Text'}
              </button>
            ))}
          </div>
          <pre class="value" role="tabpanel" tabIndex={0} aria-label="Value">
            {renderValue(kv.value, m)}
          </pre>
          <div class="row">
            <button type="button" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" class="danger" onClick={() => void del()}>
              Delete
            </button>
            <button type="button" onClick={() => void loadHistory()} disabled={historyBusy}>
              {historyBusy ? 'Loading history…' : 'History'}
            </button>
            <a class="button" href={routeHref('watch', { key: b64(k) })}>
              Watch
            </a>
          </div>
        </>
      )}
      {history && <HistoryList history={history} />}
    </article>
  );
}

function HistoryList({ history }: { history: History }) {
  const [open, setOpen] = useState<number | null>(null);
  return (
    <section aria-label="History" class="history">
      <h3>History</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Revision</th>
            <th scope="col">Event</th>
            <th scope="col">Version</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {history.entries.map((e) => (
            <tr key={e.revision} class={e.type === 'DELETE' ? 'deleted' : ''}>
              <td>{e.revision}</td>
              <td>{e.type}</td>
              <td>{e.type === 'PUT' ? e.kv.version : ''}</td>
              <td>
                {e.type === 'PUT' && (
                  <button type="button" class="link" aria-expanded={open === e.revision} onClick={() => setOpen(open === e.revision ? null : e.revision)}>
                    {preview(e.kv.value, 60) || '(empty)'}
                  </button>
                )}
                {open === e.revision && <pre class="value small">{renderValue(e.kv.value, modesFor(e.kv.value)[0] ?? 'hex')}</pre>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">
        {history.compactRevision > 0 ? `Older revisions were compacted (compacted revision ${history.compactRevision}).` : 'Complete: nothing of this key was compacted.'}
        {history.truncated ? ' Showing the oldest entries only.' : ''}
      </p>
    </section>
  );
}

// --- a folder ------------------------------------------------------------------------------

function FolderPanel({ prefix, onChanged }: { prefix: Bytes; onChanged: () => void }) {
  const [count, setCount] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = async (): Promise<void> => {
    try {
      const r = await gw.range(prefix, { rangeEnd: prefixEnd(prefix), countOnly: true });
      setCount(r.count);
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => void reload(), []);
  const del = async (): Promise<void> => {
    const r = await gw.range(prefix, { rangeEnd: prefixEnd(prefix), countOnly: true });
    const ok = await askConfirm({
      title: 'Delete prefix',
      body: (
        <p>
          Delete all <strong>{r.count}</strong> keys with prefix <code>{label(prefix)}</code>? This cannot be undone.
        </p>
      ),
      action: `Delete ${r.count} keys`,
    });
    if (!ok) return;
    try {
      const d = await gw.deleteRange(prefix, prefixEnd(prefix));
      notify(`Deleted ${d.deleted} keys with prefix ${label(prefix)} at revision ${d.header.revision ?? '?'}`);
      onChanged();
      await reload();
    } catch (e) {
      notify(errorText(e), true);
    }
  };
  return (
    <article aria-labelledby="folder-title">
      <h2 id="folder-title" class="key-title">
        {label(prefix)}
      </h2>
      {error ? <p class="error">{error}</p> : <p>{count === null ? 'Counting…' : `${count} ${count === 1 ? 'key' : 'keys'} with this prefix.`}</p>}
      <div class="row">
        <button type="button" class="danger" onClick={() => void del()} disabled={!count}>
          Delete prefix…
        </button>
        <a class="button" href={routeHref('watch', { key: b64(prefix), prefix: '1' })}>
          Watch prefix
        </a>
      </div>
    </article>
  );
}

// --- put -----------------------------------------------------------------------------------

function PutForm(props: { initialKey?: Bytes; initialValue?: Bytes; initialLease?: string; onDone: (k: Bytes | null) => void }) {
  const editing = props.initialKey !== undefined;
  // A value that is not UTF-8 cannot be edited as text: the editor starts empty and says so.
  const binary = props.initialValue !== undefined && textOf(props.initialValue) === null;
  const [key, setKey] = useState(props.initialKey ? label(props.initialKey) : '');
  const [value, setValue] = useState(props.initialValue && !binary ? (textOf(props.initialValue) ?? '') : '');
  const [lease, setLease] = useState(props.initialLease && props.initialLease !== '0' ? idHex(props.initialLease) : '');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (key === '') return notify('A key is required', true);
    setBusy(true);
    try {
      const k = fromLabel(key);
      const r = await gw.put(k, utf8(value), lease.trim() === '' ? undefined : idFromHex(lease));
      notify(`Put ${key} at revision ${r.header.revision ?? '?'}`);
      props.onDone(k);
    } catch (err) {
      notify(errorText(err), true);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="put-form" onSubmit={(e) => void submit(e)} aria-label={editing ? 'Edit value' : 'Put a key'}>
      {!editing && <h2>Put a key</h2>}
      <label>
        Key
        <input name="key" value={key} readOnly={editing} required autofocus={!editing} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
      </label>
      {binary && <p class="muted">The current value is binary ({props.initialValue?.length} bytes); what you type here replaces it as text.</p>}
      <label>
        Value
        <textarea name="value" rows={8} value={value} autofocus={editing} onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)} />
      </label>
      <label>
        Lease (hex id, optional)
        <input name="lease" value={lease} placeholder="none" onInput={(e) => setLease((e.target as HTMLInputElement).value)} />
      </label>
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          Put
        </button>
        <button type="button" onClick={() => props.onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/**
 * The key tree of the Keys view: folders by "/" loaded as they open (tree.ts), as a WAI-ARIA
 * tree (arrows move and open/close, Enter/Space act, Home/End jump).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { errorText, gw, routeHref } from '../app-state.js';
import { fromBase64, label, toBase64Url, type Bytes } from '../bytes.js';
import { childName, listChildren, type TreeChild } from '../tree.js';

function keysPage(key: Bytes, rangeEnd: Bytes, limit: number): Promise<{ keys: Bytes[]; more: boolean }> {
  return gw.range(key, { rangeEnd, limit, keysOnly: true }).then((r) => ({ keys: r.kvs.map((kv) => kv.key), more: r.more }));
}

export const b64 = (b: Bytes): string => toBase64Url(b);

/** Shows a key (or folder) of the Keys view. */
export function go(params: Record<string, string>): void {
  location.hash = routeHref('keys', params);
}

interface Node {
  children: TreeChild[];
  next: Bytes | null;
  loading: boolean;
  error: string | null;
}

interface Row {
  kind: 'child' | 'more';
  id: string;
  depth: number;
  /** The folder the row belongs to. */
  parent: Bytes;
  child?: TreeChild;
}

const idOf = (b: Bytes): string => (b.length === 0 ? 'root' : b64(b));

/** The folders above a key ("a/b/c" → "a/", "a/b/"), which a link to the key opens. */
function ancestors(key: Bytes): Bytes[] {
  const out: Bytes[] = [];
  for (let i = 0; i < key.length - 1; i++) if (key[i] === 0x2f) out.push(key.slice(0, i + 1));
  return out;
}

export function KeyTree({ version, selected }: { version: number; selected: Bytes | null }) {
  const [nodes, setNodes] = useState(() => new Map<string, Node>());
  const [expanded, setExpanded] = useState(() => new Set<string>(['root', ...(selected === null ? [] : ancestors(selected).map(idOf))]));
  const [focus, setFocus] = useState(0);
  const treeRef = useRef<HTMLDivElement>(null);

  const setNode = (id: string, n: Node): void => setNodes((m) => new Map(m).set(id, n));
  const load = async (prefix: Bytes, more = false): Promise<void> => {
    const id = idOf(prefix);
    const before = more ? nodes.get(id) : undefined;
    setNode(id, { children: before?.children ?? [], next: before?.next ?? null, loading: true, error: null });
    try {
      const page = await listChildren(keysPage, prefix, more ? (before?.next ?? null) : null);
      setNode(id, { children: [...(before?.children ?? []), ...page.children], next: page.next, loading: false, error: null });
      // A key space under one folder (as "/registry/..."): open it at once.
      const only = page.children[0];
      if (id === 'root' && page.children.length === 1 && only?.isDir === true && !expanded.has(idOf(only.key))) {
        setExpanded((e) => new Set(e).add(idOf(only.key)));
        void load(only.key);
      }
    } catch (e) {
      setNode(id, { children: before?.children ?? [], next: before?.next ?? null, loading: false, error: errorText(e) });
    }
  };

  // (Re)load every open folder: at start and after a put or delete.
  useEffect(() => {
    for (const id of expanded) void load(id === 'root' ? new Uint8Array(0) : fromBase64(id));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version]);

  const toggle = (dir: Bytes): void => {
    const id = idOf(dir);
    const next = new Set(expanded);
    if (next.has(id)) next.delete(id);
    else {
      next.add(id);
      if (!nodes.has(id)) void load(dir);
    }
    setExpanded(next);
  };

  const rows = useMemo(() => {
    const out: Row[] = [];
    const walk = (prefix: Bytes, depth: number): void => {
      const node = nodes.get(idOf(prefix));
      if (node === undefined) return;
      for (const c of node.children) {
        out.push({ kind: 'child', id: `${c.isDir ? 'd' : 'k'}:${b64(c.key)}`, depth, parent: prefix, child: c });
        if (c.isDir && expanded.has(idOf(c.key))) walk(c.key, depth + 1);
      }
      if (node.next !== null) out.push({ kind: 'more', id: `more:${idOf(prefix)}`, depth, parent: prefix });
    };
    walk(new Uint8Array(0), 1);
    return out;
  }, [nodes, expanded]);

  const activate = (r: Row): void => {
    if (r.kind === 'more') return void load(r.parent, true);
    const c = r.child as TreeChild;
    if (c.isDir) {
      toggle(c.key);
      go({ prefix: b64(c.key) });
    } else go({ key: b64(c.key) });
  };

  const focusRow = (i: number): void => {
    const n = Math.max(0, Math.min(rows.length - 1, i));
    setFocus(n);
    const el = treeRef.current?.querySelectorAll<HTMLElement>('[role=treeitem]')[n];
    el?.focus();
  };

  // WAI-ARIA tree pattern: arrows move and open/close, Enter/Space act, Home/End jump.
  const onKey = (e: KeyboardEvent): void => {
    const r = rows[focus];
    if (r === undefined) return;
    const dir = r.child?.isDir === true ? r.child : null;
    const open = dir !== null && expanded.has(idOf(dir.key));
    switch (e.key) {
      case 'ArrowDown':
        focusRow(focus + 1);
        break;
      case 'ArrowUp':
        focusRow(focus - 1);
        break;
      case 'Home':
        focusRow(0);
        break;
      case 'End':
        focusRow(rows.length - 1);
        break;
      case 'ArrowRight':
        if (dir !== null && !open) toggle(dir.key);
        else if (dir !== null) focusRow(focus + 1);
        break;
      case 'ArrowLeft':
        if (dir !== null && open) toggle(dir.key);
        else {
          const parentId = `d:${b64(r.parent)}`;
          const p = rows.findIndex((x) => x.id === parentId);
          if (p >= 0) focusRow(p);
        }
        break;
      case 'Enter':
      case ' ':
        activate(r);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const root = nodes.get('root');
  const selectedId = selected === null ? '' : b64(selected);
  return (
    <div class="tree" role="tree" aria-label="Keys by prefix" ref={treeRef} onKeyDown={onKey}>
      {root?.error && <p class="error">{root.error}</p>}
      {root && !root.loading && root.children.length === 0 && !root.error && <p class="muted">No keys.</p>}
      {rows.map((r, i) => {
        if (r.kind === 'more') {
          const n = nodes.get(idOf(r.parent));
          return (
            <div key={r.id} role="treeitem" aria-level={r.depth} tabIndex={i === focus ? 0 : -1} class="tree-row more" style={{ paddingLeft: `${r.depth * 14}px` }} onClick={() => (setFocus(i), activate(r))}>
              {n?.loading ? 'Loading…' : 'Show more…'}
            </div>
          );
        }
        const c = r.child as TreeChild;
        const isOpen = c.isDir && expanded.has(idOf(c.key));
        const name = label(childName(r.parent, c));
        const sel = selectedId !== '' && b64(c.key) === selectedId;
        const loading = c.isDir && isOpen && nodes.get(idOf(c.key))?.loading === true;
        return (
          <div
            key={r.id}
            role="treeitem"
            aria-level={r.depth}
            aria-expanded={c.isDir ? isOpen : undefined}
            aria-selected={sel}
            data-key={label(c.key)}
            tabIndex={i === focus ? 0 : -1}
            class={`tree-row${c.isDir ? ' dir' : ''}${sel ? ' selected' : ''}`}
            style={{ paddingLeft: `${r.depth * 14}px` }}
            onClick={() => (setFocus(i), activate(r))}
          >
            <span class="twisty" aria-hidden="true">
              {c.isDir ? (isOpen ? '▾' : '▸') : '·'}
            </span>
            <span class="name">{name === '' ? '(empty name)' : name}</span>
            {loading && <span class="muted"> loading…</span>}
          </div>
        );
      })}
    </div>
  );
}

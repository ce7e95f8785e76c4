/**
 * The values a key had, newest first, back to the compacted revision: a watch on the key from
 * revision 1 replays every event the store still has (from the compacted revision when the
 * server says part is gone), and the value the key had at the compacted revision itself is read
 * with a range at that revision. The replay ends at the key's last change, which a range at the
 * current revision names.
 */
import { Code, GatewayError, type Gateway, type KeyValue } from './api.js';
import type { Bytes } from './bytes.js';

export interface HistoryEntry {
  type: 'PUT' | 'DELETE';
  revision: number;
  /** For a PUT, the value written; for a DELETE, the key's revision and nothing else. */
  kv: KeyValue;
}

export interface History {
  entries: HistoryEntry[];
  /** Revisions up to this one are compacted away (0: none). */
  compactRevision: number;
  /** The replay stopped before the key's last change (too long, or the stream failed). */
  truncated: boolean;
}

export interface HistoryOptions {
  maxEntries?: number;
  /** How long to wait for the replay when the key has no current value to end it. */
  quietMs?: number;
  timeoutMs?: number;
}

export async function keyHistory(gw: Gateway, key: Bytes, o: HistoryOptions = {}): Promise<History> {
  const maxEntries = o.maxEntries ?? 1000;
  const now = await gw.range(key);
  const current = now.kvs[0];
  // The last revision to wait for: the key's last put; for a deleted key, the store's revision.
  const until = current?.modRevision ?? Number(now.header.revision ?? 0);
  let start = 1;
  let compactRevision = 0;
  for (;;) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), o.timeoutMs ?? 10_000);
    const entries: HistoryEntry[] = [];
    let quiet: ReturnType<typeof setTimeout> | undefined;
    let truncated = false;
    let compacted = 0;
    try {
      for await (const r of gw.watch({ key, startRevision: start }, { signal: abort.signal })) {
        if (r.canceled) {
          compacted = r.compactRevision;
          if (compacted === 0) throw new GatewayError(r.cancelReason ?? 'watch canceled', Code.FailedPrecondition, 200);
          break;
        }
        for (const e of r.events) entries.push({ type: e.type, revision: e.kv.modRevision, kv: e.kv });
        const last = entries[entries.length - 1];
        if ((last !== undefined && last.revision >= until) || entries.length >= maxEntries) {
          truncated = entries.length >= maxEntries && (last?.revision ?? 0) < until;
          break;
        }
        if (current === undefined) {
          // Nothing marks the end of a deleted key's replay: stop once the stream goes quiet.
          clearTimeout(quiet);
          quiet = setTimeout(() => abort.abort(), o.quietMs ?? 500);
        }
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
      truncated = current !== undefined;
    } finally {
      clearTimeout(timer);
      clearTimeout(quiet);
      abort.abort();
    }
    if (compacted > 0) {
      // Again from the compacted revision: the events from there on are still kept.
      compactRevision = compacted;
      start = compacted;
      continue;
    }
    if (compactRevision > 0) {
      // The value the key had at the compacted revision survives compaction.
      try {
        const at = await gw.range(key, { revision: compactRevision });
        const kv = at.kvs[0];
        if (kv !== undefined && !entries.some((e) => e.revision === kv.modRevision)) entries.unshift({ type: 'PUT', revision: kv.modRevision, kv });
      } catch (e) {
        // Compacted again meanwhile: what was replayed still stands.
        if (!(e instanceof GatewayError && e.code === Code.OutOfRange)) throw e;
      }
    }
    return { entries: entries.reverse(), compactRevision, truncated };
  }
}

/**
 * etcdctl's display of a watch response (printer*.go Watch, 3.4.23), kept apart from the
 * Printer interface because only `watch` prints these:
 * - simple: per event its type, then prev key/value (if any), then key/value;
 * - json: Go's encoding/json of clientv3.WatchResponse {Header, Events, CompactRevision,
 *   Canceled, Created} (Events is never null);
 * - fields: the header, then per event `"Type" : PUT` and the (Prev) key-value lines;
 * - protobuf: the marshalled pb.WatchResponse of those same fields;
 * - table: not supported (raised at the first response, as etcdctl).
 */
import type { KeyValue } from '../../api/kv-types.js';
import type { WatchResponseView } from '../../client/watch.js';
import { binBytes, goQuote, hexEscape } from '../go-format.js';
import { goJson, goProtobuf } from '../go-json.js';
import { notSupported } from './table.js';

type Obj = Record<string, unknown>;

const typeName = (t: number): string => (t === 1 ? 'DELETE' : 'PUT');

export type WatchPrinter = (r: WatchResponseView) => string;

export function watchPrinter(format: string, isHex: boolean): WatchPrinter {
  switch (format) {
    case 'simple': {
      const kv = (k: KeyValue): string => `${isHex ? hexEscape(k.key) : binBytes(k.key)}\n${isHex ? hexEscape(k.value) : binBytes(k.value)}\n`;
      return (r) => r.events.map((e) => `${typeName(e.type)}\n` + (e.prev_kv ? kv(e.prev_kv) : '') + kv(e.kv)).join('');
    }
    case 'json':
      return (r) => {
        const raw = r.raw;
        const events = ((raw['events'] as Obj[] | undefined) ?? []).map((e) => goJson('mvccpb.Event', e));
        return (
          `{"Header":${goJson('etcdserverpb.ResponseHeader', (raw['header'] as Obj | undefined) ?? {})},"Events":[${events.join(',')}],` +
          `"CompactRevision":${r.compact_revision},"Canceled":${r.canceled},"Created":${r.created}}\n`
        );
      };
    case 'fields': {
      const kv = (pfx: string, k: KeyValue): string =>
        `"${pfx}Key" : ${goQuote(k.key)}\n"${pfx}CreateRevision" : ${k.create_revision}\n"${pfx}ModRevision" : ${k.mod_revision}\n` +
        `"${pfx}Version" : ${k.version}\n"${pfx}Value" : ${goQuote(k.value)}\n"${pfx}Lease" : ${k.lease}\n`;
      return (r) => {
        const h = r.header;
        let s = `"ClusterID" : ${h.cluster_id}\n"MemberID" : ${h.member_id}\n"Revision" : ${h.revision}\n"RaftTerm" : ${h.raft_term}\n`;
        for (const e of r.events) s += `"Type" : ${typeName(e.type)}\n` + (e.prev_kv ? kv('Prev', e.prev_kv) : '') + kv('', e.kv);
        return s;
      };
    }
    case 'protobuf':
      return (r) =>
        goProtobuf('etcdserverpb.WatchResponse', {
          header: r.raw['header'],
          events: r.raw['events'],
          compact_revision: r.raw['compact_revision'],
          canceled: r.canceled,
          created: r.created,
        });
    default:
      return () => {
        throw notSupported(format);
      };
  }
}

/** Go's %q of a []string (exec error line). */
export function goQuoteList(xs: string[]): string {
  return `[${xs.map((x) => goQuote(x)).join(' ')}]`;
}


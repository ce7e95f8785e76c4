/** etcdctl's simple printer (printer_simple.go behaviour): plain lines per response. */
import type { KeyValue } from '../../api/kv-types.js';
import type { CallResult, DeleteRange, MemberList, Put, Range, Txn } from '../../client/types.js';
import { bin, binBytes, hexEscape } from '../go-format.js';
import type { EndpointHealth, EndpointStatus, Printer } from './printer.js';
import { endpointStatusRows, memberListRows } from './rows.js';

export class SimplePrinter implements Printer {
  /** --print-value-only (set by get after the request, as etcdctl does). */
  valueOnly = false;

  constructor(private readonly isHex: boolean) {}

  private kv(kv: KeyValue): string {
    const k = this.isHex ? hexEscape(kv.key) : binBytes(kv.key);
    const v = this.isHex ? hexEscape(kv.value) : binBytes(kv.value);
    return (this.valueOnly ? '' : `${k}\n`) + `${v}\n`;
  }

  get(r: CallResult<Range>): string {
    return r.resp.kvs.map((kv) => this.kv(kv)).join('');
  }

  put(r: CallResult<Put>): string {
    return 'OK\n' + (r.resp.prev_kv ? this.kv(r.resp.prev_kv) : '');
  }

  del(r: CallResult<DeleteRange>): string {
    return `${r.resp.deleted}\n` + r.resp.prev_kvs.map((kv) => this.kv(kv)).join('');
  }

  txn(r: CallResult<Txn>): string {
    let s = r.resp.succeeded ? 'SUCCESS\n' : 'FAILURE\n';
    r.resp.responses.forEach((op) => {
      s += '\n';
      // get/put/del above read only `resp` (the wire object may not be kept: client.ts keepRaw).
      const sub = <T>(type: string, _key: string, resp: T | undefined): CallResult<T> => ({ type, raw: {}, resp: resp as T });
      if (op.response === 'response_delete_range') s += this.del(sub('etcdserverpb.DeleteRangeResponse', op.response, op.response_delete_range as DeleteRange));
      else if (op.response === 'response_put') s += this.put(sub('etcdserverpb.PutResponse', op.response, op.response_put as Put));
      else if (op.response === 'response_range') s += this.get(sub('etcdserverpb.RangeResponse', op.response, op.response_range as Range));
      else s += `unexpected response ${bin(JSON.stringify(op, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))}\n`;
    });
    return s;
  }

  memberList(r: CallResult<MemberList>): string {
    return memberListRows(r.resp)
      .map((row) => bin(row.join(', ')) + '\n')
      .join('');
  }

  endpointHealth(hs: EndpointHealth[]): { stdout: string; stderr: string } {
    // etcdctl 3.4 writes both the healthy and the unhealthy lines to stderr.
    let stderr = '';
    for (const h of hs) {
      if (h.error === '') stderr += bin(`${h.ep} is healthy: successfully committed proposal: took = ${h.took}\n`);
      else stderr += bin(`${h.ep} is unhealthy: failed to commit proposal: ${h.error}\n`);
    }
    return { stdout: '', stderr };
  }

  endpointStatus(ss: EndpointStatus[]): string {
    return endpointStatusRows(ss)
      .map((row) => bin(row.join(', ')) + '\n')
      .join('');
  }
}

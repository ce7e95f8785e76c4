/** etcdctl's json printer: Go's encoding/json of the whole response (go-json.ts). */
import type { CallResult, DeleteRange, MemberList, Put, Range, Txn } from '../../client/types.js';
import { goJson } from '../go-json.js';
import { goJsonString } from '../go-format.js';
import type { EndpointHealth, EndpointStatus, Printer } from './printer.js';

function whole(r: CallResult<unknown>): string {
  return goJson(r.type, r.raw) + '\n';
}

export class JsonPrinter implements Printer {
  get(r: CallResult<Range>): string {
    return whole(r);
  }
  put(r: CallResult<Put>): string {
    return whole(r);
  }
  del(r: CallResult<DeleteRange>): string {
    return whole(r);
  }
  txn(r: CallResult<Txn>): string {
    return whole(r);
  }
  memberList(r: CallResult<MemberList>): string {
    return whole(r);
  }
  /** []epHealth{Ep `json:"endpoint"`, Health `json:"health"`, Took `json:"took"`, Error `json:"error,omitempty"`}. */
  endpointHealth(hs: EndpointHealth[]): { stdout: string; stderr: string } {
    const items = hs.map(
      (h) =>
        `{"endpoint":${goJsonString(h.ep)},"health":${h.health},"took":${goJsonString(h.took)}` +
        (h.error === '' ? '' : `,"error":${goJsonString(h.error)}`) +
        '}',
    );
    return { stdout: `[${items.join(',')}]\n`, stderr: '' };
  }
  /** []epStatus{Ep `json:"Endpoint"`, Resp `json:"Status"`}. */
  endpointStatus(ss: EndpointStatus[]): string {
    const items = ss.map((s) => `{"Endpoint":${goJsonString(s.ep)},"Status":${goJson(s.resp.type, s.resp.raw)}}`);
    return `[${items.join(',')}]\n`;
  }
}

/** etcdctl's protobuf printer: the marshalled response, no newline; none for endpoint commands. */
import type { CallResult, DeleteRange, MemberList, Put, Range, Txn } from '../../client/types.js';
import { goProtobuf } from '../go-json.js';
import type { Printer } from './printer.js';
import { notSupported } from './table.js';

function marshal(r: CallResult<unknown>): string {
  return goProtobuf(r.type, r.raw);
}

export class ProtobufPrinter implements Printer {
  get(r: CallResult<Range>): string {
    return marshal(r);
  }
  put(r: CallResult<Put>): string {
    return marshal(r);
  }
  del(r: CallResult<DeleteRange>): string {
    return marshal(r);
  }
  txn(r: CallResult<Txn>): string {
    return marshal(r);
  }
  memberList(r: CallResult<MemberList>): string {
    return marshal(r);
  }
  endpointHealth(): { stdout: string; stderr: string } {
    throw notSupported('protobuf');
  }
  endpointStatus(): string {
    throw notSupported('protobuf');
  }
}

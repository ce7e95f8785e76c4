/** etcdctl's table printer: only member list and endpoint health/status have tables. */
import type { CallResult, MemberList } from '../../client/types.js';
import { bin } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';
import { renderTable } from '../table.js';
import type { EndpointHealth, EndpointStatus, Printer } from './printer.js';
import { endpointHealthHeader, endpointHealthRows, endpointStatusHeader, endpointStatusRows, memberListHeader, memberListRows } from './rows.js';

export function notSupported(format: string): CliExit {
  return new CliExit(ExitCode.BadFeature, `${format} not supported as output format`);
}

export class TablePrinter implements Printer {
  get(): string {
    throw notSupported('table');
  }
  put(): string {
    throw notSupported('table');
  }
  del(): string {
    throw notSupported('table');
  }
  txn(): string {
    throw notSupported('table');
  }
  memberList(r: CallResult<MemberList>): string {
    return bin(renderTable(memberListHeader, memberListRows(r.resp)));
  }
  endpointHealth(hs: EndpointHealth[]): { stdout: string; stderr: string } {
    return { stdout: bin(renderTable(endpointHealthHeader, endpointHealthRows(hs))), stderr: '' };
  }
  endpointStatus(ss: EndpointStatus[]): string {
    return bin(renderTable(endpointStatusHeader, endpointStatusRows(ss)));
  }
}

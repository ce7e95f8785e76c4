/**
 * etcdctl 3.4.23's output of the user, role and auth commands, per --write-out format (checked
 * against etcdctl 3.4.23 with etcd 3.4.23: test/compat/auth.test.ts):
 * - simple: "User u created", "Role r\nKV Read:\n\t[k, e) (prefix k)\n...", ...;
 * - json and protobuf: the whole response message;
 * - fields: the header, then role get's permissions (`"PermType" :  READ`, `"Key" : %q`,
 *   `"RangeEnd" : %q`) and role list's names; user get and user list have none ("fields not
 *   supported as output format");
 * - table: none.
 * etcdctl prints only after the request succeeded, so an unsupported format fails after the change.
 */
import type { AuthPermission, AuthRoleGet, AuthRoleList, AuthStatus, AuthUserGet, AuthUserList, CallResult, ResponseHeader } from '../../client/types.js';
import { goJson, goProtobuf } from '../go-json.js';
import { bin, binBytes, goQuote } from '../go-format.js';
import { CliExit, ExitCode } from '../output.js';

const zeroHeader: ResponseHeader = { cluster_id: 0n, member_id: 0n, revision: 0n, raft_term: 0n };

function hdr(h: ResponseHeader | null | undefined): string {
  const x = h ?? zeroHeader;
  return `"ClusterID" : ${x.cluster_id}\n"MemberID" : ${x.member_id}\n"Revision" : ${x.revision}\n"RaftTerm" : ${x.raft_term}\n`;
}

const permTypeNames = ['READ', 'WRITE', 'READWRITE'];

/** clientv3.GetPrefixRangeEnd of a binary string. */
function prefixEnd(key: string): string {
  const b = Buffer.from(key, 'latin1');
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 0xff) {
      b[i] = (b[i] as number) + 1;
      return b.subarray(0, i + 1).toString('latin1');
    }
  }
  return '\x00';
}

function unsupported(format: string): CliExit {
  return new CliExit(ExitCode.BadFeature, `${format} not supported as output format`);
}

export interface AuthPrinter {
  /** add, delete, passwd, grant-role, revoke-role, role add/delete/grant-permission/revoke-permission. */
  done(r: CallResult<{ header: ResponseHeader }>, simple: string): string;
  userGet(name: string, r: CallResult<AuthUserGet>): string;
  userList(r: CallResult<AuthUserList>): string;
  roleGet(role: string, r: CallResult<AuthRoleGet>): string;
  roleList(r: CallResult<AuthRoleList>): string;
  authStatus(r: CallResult<AuthStatus>): string;
}

function simpleRoleGet(role: string, perms: AuthPermission[]): string {
  const range = (p: AuthPermission): string => {
    const k = binBytes(p.key);
    const e = binBytes(p.range_end);
    let s = e !== '\x00' ? `\t[${k}, ${e})` : `\t[${k}, <open ended>`;
    if (prefixEnd(k) === e) s += ` (prefix ${k})`;
    return s + '\n';
  };
  const line = (p: AuthPermission): string => (p.range_end.length === 0 ? `\t${binBytes(p.key)}\n` : range(p));
  let s = `Role ${role}\nKV Read:\n`;
  for (const p of perms) if (p.permType === 0 || p.permType === 2) s += line(p);
  s += 'KV Write:\n';
  for (const p of perms) if (p.permType === 1 || p.permType === 2) s += line(p);
  return s;
}

const simple: AuthPrinter = {
  done: (_r, text) => text,
  userGet: (name, r) => `User: ${name}\nRoles:${r.resp.roles.map((x) => ` ${bin(x)}`).join('')}\n`,
  userList: (r) => r.resp.users.map((u) => `${bin(u)}\n`).join(''),
  roleGet: (role, r) => simpleRoleGet(role, r.resp.perm),
  roleList: (r) => r.resp.roles.map((x) => `${bin(x)}\n`).join(''),
  authStatus: (r) => `Authentication Status: ${r.resp.enabled === true}\nAuthRevision: ${r.resp.authRevision}\n`,
};

const whole = (r: CallResult<unknown>): string => goJson(r.type, r.raw) + '\n';
const json: AuthPrinter = {
  done: (r) => whole(r),
  userGet: (_n, r) => whole(r),
  userList: (r) => whole(r),
  roleGet: (_n, r) => whole(r),
  roleList: (r) => whole(r),
  authStatus: (r) => whole(r),
};

const marshal = (r: CallResult<unknown>): string => goProtobuf(r.type, r.raw);
const protobuf: AuthPrinter = {
  done: (r) => marshal(r),
  userGet: (_n, r) => marshal(r),
  userList: (r) => marshal(r),
  roleGet: (_n, r) => marshal(r),
  roleList: (r) => marshal(r),
  authStatus: (r) => marshal(r),
};

const fields: AuthPrinter = {
  done: (r) => hdr(r.resp.header),
  userGet: () => {
    throw unsupported('fields');
  },
  userList: () => {
    throw unsupported('fields');
  },
  roleGet: (_n, r) =>
    hdr(r.resp.header) +
    r.resp.perm.map((p) => `"PermType" :  ${permTypeNames[p.permType] ?? String(p.permType)}\n"Key" : ${goQuote(p.key)}\n"RangeEnd" : ${goQuote(p.range_end)}\n`).join(''),
  roleList: (r) => hdr(r.resp.header) + `"Roles" :${r.resp.roles.map((x) => ` ${goQuote(Buffer.from(x, 'utf8'))}`).join('')}\n`,
  authStatus: (r) => hdr(r.resp.header) + `"Enabled" : ${r.resp.enabled === true}\n"AuthRevision" : ${r.resp.authRevision}\n`,
};

const table: AuthPrinter = {
  done: () => {
    throw unsupported('table');
  },
  userGet: () => {
    throw unsupported('table');
  },
  userList: () => {
    throw unsupported('table');
  },
  roleGet: () => {
    throw unsupported('table');
  },
  roleList: () => {
    throw unsupported('table');
  },
  authStatus: () => {
    throw unsupported('table');
  },
};

/** The auth printer of a --write-out value (validated by the command's client set-up). */
export function authPrinter(format: string): AuthPrinter {
  switch (format) {
    case 'json':
      return json;
    case 'fields':
      return fields;
    case 'protobuf':
      return protobuf;
    case 'table':
      return table;
    default:
      return simple;
  }
}

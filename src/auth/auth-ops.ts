/**
 * The Auth service's changes and reads as they travel through Raft (etcd puts each Auth RPC into
 * its InternalRaftRequest, reads included, so that they are linearizable and checked at apply
 * against the auth state of their log position). Passwords never travel: UserAdd and
 * UserChangePassword carry the bcrypt hash, made before proposing (etcd 3.5's hashedPassword),
 * and Authenticate carries only the user and the simple-token prefix (etcd's
 * InternalAuthenticateRequest), the password having been checked before proposing.
 *
 * Encoded as JSON (rare, small); byte strings as base64.
 */
import type { Permission } from './permissions.js';

export type AuthOp =
  | { op: 'authEnable' }
  | { op: 'authDisable' }
  | { op: 'authStatus' }
  | { op: 'authenticate'; name: string; tokenPrefix: string }
  | { op: 'userAdd'; name: string; hashedPassword: Buffer; noPassword: boolean }
  | { op: 'userGet'; name: string }
  | { op: 'userList' }
  | { op: 'userDelete'; name: string }
  | { op: 'userChangePassword'; name: string; hashedPassword: Buffer }
  | { op: 'userGrantRole'; user: string; role: string }
  | { op: 'userRevokeRole'; name: string; role: string }
  | { op: 'roleAdd'; name: string }
  | { op: 'roleGet'; role: string }
  | { op: 'roleList' }
  | { op: 'roleDelete'; role: string }
  | { op: 'roleGrantPermission'; name: string; perm: Permission | null }
  | { op: 'roleRevokePermission'; role: string; key: Buffer; rangeEnd: Buffer };

/** What an applied AuthOp answers (the rpc layer shapes the response message from it). */
export interface AuthOpResult {
  roles?: string[];
  users?: string[];
  perm?: Permission[];
  /** authenticate: the simple token assigned at apply ('' with JWT tokens, made by the caller). */
  token?: string;
  enabled?: boolean;
  authRevision?: bigint;
}

const b64 = (b: Buffer): string => b.toString('base64');
const unb64 = (s: unknown): Buffer => Buffer.from(typeof s === 'string' ? s : '', 'base64');

export function encodeAuthOp(op: AuthOp): Buffer {
  const o: Record<string, unknown> = { ...op };
  for (const k of ['hashedPassword', 'key', 'rangeEnd'] as const) if (k in op) o[k] = b64((op as unknown as Record<string, Buffer>)[k] as Buffer);
  if (op.op === 'roleGrantPermission' && op.perm !== null) o.perm = { permType: op.perm.permType, key: b64(op.perm.key), rangeEnd: b64(op.perm.rangeEnd) };
  return Buffer.from(JSON.stringify(o));
}

export function decodeAuthOp(b: Uint8Array): AuthOp {
  const o = JSON.parse(Buffer.from(b).toString()) as Record<string, unknown>;
  for (const k of ['hashedPassword', 'key', 'rangeEnd']) if (k in o) o[k] = unb64(o[k]);
  if (o.op === 'roleGrantPermission' && o.perm !== null && typeof o.perm === 'object') {
    const p = o.perm as Record<string, unknown>;
    o.perm = { permType: Number(p.permType), key: unb64(p.key), rangeEnd: unb64(p.rangeEnd) };
  }
  return o as unknown as AuthOp;
}

/** Ops that only the root role may run (etcd's needAdminPermission); userGet and roleGet have their own rule. */
export function needsAdmin(op: AuthOp): boolean {
  return op.op !== 'authenticate' && op.op !== 'userGet' && op.op !== 'roleGet' && op.op !== 'authStatus';
}

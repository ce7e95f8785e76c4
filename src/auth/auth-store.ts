/**
 * The auth store (etcd auth/store.go, 3.4 semantics checked live on 3.4.23): users, roles, their
 * key permissions, the enabled flag and the auth revision — replicated state, changed only by
 * apply (server/apply-auth.ts) and persisted in the apply batch under schema.ts's auth prefixes:
 *   'a' + "enabled"  → one byte (1 = enabled)
 *   'a' + "revision" → u64
 *   'u' + name       → authpb.User (name, bcrypt hash, sorted roles, options.no_password)
 *   'r' + name       → authpb.Role (name, permissions sorted by key)
 *
 * etcd's rules kept here, with its errors:
 * - every change bumps the auth revision by one (commitRevision), except enabling auth and
 *   granting a role the user already has; a fresh store starts at revision 1;
 * - AuthEnable needs user root holding role root; deleting root, revoking role root from root and
 *   deleting role root are refused while auth is enabled ("invalid auth management");
 * - role "root" may be granted without existing as a role;
 * - a permission granted again for the same key and range end replaces the old type (found by
 *   key with sort.Search, as etcd does); revoking one that is not there fails.
 * - permission checks (isOpPermitted / isAdminPermitted) answer with etcd's errors: no user
 *   (revision 0) → "user name is empty", an older auth revision → "revision of auth store is
 *   old", unknown user → permission denied (admin check: "user name not found").
 *
 * Invariants: the in-memory maps equal the persisted records once the apply batch holding a
 * change has landed (load() rebuilds them); apply reads only its operation and this state;
 * every user's roles are sorted and free of duplicates; every role's permissions are sorted by key.
 * The merged permissions of a user are cached and the cache is dropped whenever the revision moves.
 */
import { assert } from '../base/assert.js';
import { u64FromBytesBE } from '../base/int64.js';
import { EtcdError, Errors, type ErrorSpec } from '../api/errors.js';
import { decodeGeneric, encodeGeneric } from '../api/generic-codec.js';
import { Backend, WriteBatch } from '../storage/backend.js';
import { authKey, authRoleKey, authUserKey, prefix, prefixUpper } from '../storage/schema.js';
import { mergePerms, PermType, rangePermitted, type Permission, type UserPerms } from './permissions.js';

export const rootUser = 'root';
export const rootRole = 'root';

export interface User {
  name: string;
  /** bcrypt hash (empty for a --no-password user). */
  password: Buffer;
  roles: string[];
  noPassword: boolean;
}

export interface Role {
  name: string;
  perms: Permission[];
}

/** Who a request runs as: the user and the auth revision its token carries (etcd AuthInfo). */
export interface AuthInfo {
  username: string;
  revision: bigint;
}

const enabledKey = authKey('enabled');
const revisionKey = authKey('revision');

function err(spec: ErrorSpec): EtcdError {
  return new EtcdError(spec);
}

function encodeUser(u: User): Buffer {
  return Buffer.from(
    encodeGeneric('authpb.User', { name: Buffer.from(u.name), password: u.password, roles: u.roles, options: u.noPassword ? { no_password: true } : null }),
  );
}

function decodeUser(b: Buffer): User {
  const o = decodeGeneric('authpb.User', b) as { name: Buffer; password: Buffer; roles: string[]; options: { no_password: boolean } | null };
  return { name: o.name.toString(), password: Buffer.from(o.password), roles: o.roles, noPassword: o.options?.no_password === true };
}

function encodeRole(r: Role): Buffer {
  return Buffer.from(
    encodeGeneric('authpb.Role', {
      name: Buffer.from(r.name),
      keyPermission: r.perms.map((p) => ({ permType: p.permType, key: p.key, range_end: p.rangeEnd })),
    }),
  );
}

function decodeRole(b: Buffer): Role {
  const o = decodeGeneric('authpb.Role', b) as { name: Buffer; keyPermission: { permType: number; key: Buffer; range_end: Buffer }[] };
  return { name: o.name.toString(), perms: o.keyPermission.map((p) => ({ permType: p.permType, key: Buffer.from(p.key), rangeEnd: Buffer.from(p.range_end) })) };
}

const byName = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class AuthStore {
  private enabledFlag = false;
  private rev = 1n;
  private readonly users = new Map<string, User>();
  private readonly roles = new Map<string, Role>();
  /** Merged permissions per user, valid for `permsRev` only. */
  private permsCache = new Map<string, UserPerms>();
  private permsRev = 0n;

  get enabled(): boolean {
    return this.enabledFlag;
  }

  get revision(): bigint {
    return this.rev;
  }

  static async load(backend: Backend): Promise<AuthStore> {
    const s = new AuthStore();
    await s.reload(backend);
    return s;
  }

  /** Rebuilds the state from the backend (start-up, snapshot install). */
  async reload(backend: Backend): Promise<void> {
    this.users.clear();
    this.roles.clear();
    this.permsCache.clear();
    this.enabledFlag = backend.getSync(enabledKey)?.[0] === 1;
    const r = backend.getSync(revisionKey);
    // etcd's NewAuthStore commits revision 1 into a fresh store.
    this.rev = r === undefined ? 1n : u64FromBytesBE(r, 0);
    for await (const [, v] of backend.scan(prefix.authUser, prefixUpper(prefix.authUser))) {
      const u = decodeUser(v);
      this.users.set(u.name, u);
    }
    for await (const [, v] of backend.scan(prefix.authRole, prefixUpper(prefix.authRole))) {
      const role = decodeRole(v);
      this.roles.set(role.name, role);
    }
  }

  user(name: string): User | undefined {
    return this.users.get(name);
  }

  role(name: string): Role | undefined {
    return this.roles.get(name);
  }

  userNames(): string[] {
    return [...this.users.keys()].sort(byName);
  }

  roleNames(): string[] {
    return [...this.roles.keys()].sort(byName);
  }

  hasRole(user: string, role: string): boolean {
    return this.users.get(user)?.roles.includes(role) ?? false;
  }

  // ---- checks (etcd isOpPermitted, IsAdminPermitted) ----

  /** Null when `info` may run an operation needing the root role (always, with auth off). */
  adminError(info: AuthInfo | null | undefined): EtcdError | null {
    if (!this.enabledFlag) return null;
    if (!info || info.username === '') return err(Errors.UserEmpty);
    const u = this.users.get(info.username);
    if (u === undefined) return err(Errors.UserNotFound);
    if (!u.roles.includes(rootRole)) return err(Errors.PermissionDenied);
    return null;
  }

  /** Null when `info` may read (READ) or write (WRITE) [key, rangeEnd) (etcd isOpPermitted). */
  opError(info: AuthInfo | null | undefined, key: Uint8Array, rangeEnd: Uint8Array, type: typeof PermType.READ | typeof PermType.WRITE): EtcdError | null {
    if (!this.enabledFlag) return null;
    if (!info || info.revision === 0n) return err(Errors.UserEmpty);
    if (info.revision < this.rev) return err(Errors.AuthOldRevision);
    const u = this.users.get(info.username);
    if (u === undefined) return err(Errors.PermissionDenied);
    if (u.roles.includes(rootRole)) return null;
    return rangePermitted(this.permsOf(u), key, rangeEnd, type) ? null : err(Errors.PermissionDenied);
  }

  private permsOf(u: User): UserPerms {
    if (this.permsRev !== this.rev) {
      this.permsCache = new Map();
      this.permsRev = this.rev;
    }
    let p = this.permsCache.get(u.name);
    if (p === undefined) {
      const all: Permission[] = [];
      for (const r of u.roles) all.push(...(this.roles.get(r)?.perms ?? []));
      p = mergePerms(all);
      this.permsCache.set(u.name, p);
    }
    return p;
  }

  // ---- changes (apply only; each writes its records into the apply batch) ----

  private commitRevision(batch: WriteBatch): void {
    this.rev += 1n;
    batch.put(revisionKey, Backend.u64(this.rev));
  }

  private putUser(u: User, batch: WriteBatch): void {
    assert(u.roles.every((r, i) => i === 0 || byName(u.roles[i - 1] as string, r) < 0), 'user roles must be sorted and unique');
    this.users.set(u.name, u);
    batch.put(authUserKey(Buffer.from(u.name)), encodeUser(u));
  }

  private putRole(r: Role, batch: WriteBatch): void {
    this.roles.set(r.name, r);
    batch.put(authRoleKey(Buffer.from(r.name)), encodeRole(r));
  }

  enable(batch: WriteBatch): void {
    if (this.enabledFlag) return;
    const root = this.users.get(rootUser);
    if (root === undefined) throw err(Errors.RootUserNotExist);
    if (!root.roles.includes(rootRole)) throw err(Errors.RootRoleNotExist);
    this.enabledFlag = true;
    batch.put(enabledKey, Buffer.from([1]));
    // The revision is persisted in a fresh store's first batch (it starts at 1 in memory).
    batch.put(revisionKey, Backend.u64(this.rev));
  }

  disable(batch: WriteBatch): void {
    if (!this.enabledFlag) return;
    this.enabledFlag = false;
    batch.put(enabledKey, Buffer.from([0]));
    this.commitRevision(batch);
  }

  /** Authenticate's apply-time check (the password was checked before proposing). */
  checkAuthenticate(name: string): void {
    if (!this.enabledFlag) throw err(Errors.AuthNotEnabled);
    const u = this.users.get(name);
    if (u === undefined || u.noPassword) throw err(Errors.AuthFailed);
  }

  userAdd(name: string, hashedPassword: Buffer, noPassword: boolean, batch: WriteBatch): void {
    if (name === '') throw err(Errors.UserEmpty);
    if (this.users.has(name)) throw err(Errors.UserAlreadyExist);
    this.putUser({ name, password: noPassword ? Buffer.alloc(0) : hashedPassword, roles: [], noPassword }, batch);
    this.commitRevision(batch);
  }

  userDelete(name: string, batch: WriteBatch): void {
    if (this.enabledFlag && name === rootUser) throw err(Errors.InvalidAuthMgmt);
    if (!this.users.has(name)) throw err(Errors.UserNotFound);
    this.users.delete(name);
    batch.del(authUserKey(Buffer.from(name)));
    this.commitRevision(batch);
  }

  userChangePassword(name: string, hashedPassword: Buffer, batch: WriteBatch): void {
    const u = this.users.get(name);
    if (u === undefined) throw err(Errors.UserNotFound);
    this.putUser({ ...u, password: u.noPassword ? Buffer.alloc(0) : hashedPassword }, batch);
    this.commitRevision(batch);
  }

  userGrantRole(user: string, role: string, batch: WriteBatch): void {
    const u = this.users.get(user);
    if (u === undefined) throw err(Errors.UserNotFound);
    if (role !== rootRole && !this.roles.has(role)) throw err(Errors.RoleNotFound);
    if (u.roles.includes(role)) return; // etcd: "ignored grant role request to a user", no revision bump
    this.putUser({ ...u, roles: [...u.roles, role].sort(byName) }, batch);
    this.commitRevision(batch);
  }

  userRevokeRole(name: string, role: string, batch: WriteBatch): void {
    if (this.enabledFlag && name === rootUser && role === rootRole) throw err(Errors.InvalidAuthMgmt);
    const u = this.users.get(name);
    if (u === undefined) throw err(Errors.UserNotFound);
    if (!u.roles.includes(role)) throw err(Errors.RoleNotGranted);
    this.putUser({ ...u, roles: u.roles.filter((r) => r !== role) }, batch);
    this.commitRevision(batch);
  }

  userGet(name: string): string[] {
    const u = this.users.get(name);
    if (u === undefined) throw err(Errors.UserNotFound);
    return [...u.roles];
  }

  roleAdd(name: string, batch: WriteBatch): void {
    if (name === '') throw err(Errors.RoleEmpty);
    if (this.roles.has(name)) throw err(Errors.RoleAlreadyExist);
    this.putRole({ name, perms: [] }, batch);
    this.commitRevision(batch);
  }

  roleGet(name: string): Permission[] {
    const r = this.roles.get(name);
    if (r === undefined) throw err(Errors.RoleNotFound);
    return r.perms.map((p) => ({ ...p }));
  }

  roleDelete(name: string, batch: WriteBatch): void {
    if (this.enabledFlag && name === rootRole) throw err(Errors.InvalidAuthMgmt);
    if (!this.roles.has(name)) throw err(Errors.RoleNotFound);
    this.roles.delete(name);
    batch.del(authRoleKey(Buffer.from(name)));
    for (const u of [...this.users.values()]) {
      if (u.roles.includes(name)) this.putUser({ ...u, roles: u.roles.filter((r) => r !== name) }, batch);
    }
    this.commitRevision(batch);
  }

  roleGrantPermission(name: string, perm: Permission | null, batch: WriteBatch): void {
    const r = this.roles.get(name);
    if (r === undefined) throw err(Errors.RoleNotFound);
    if (perm === null) throw err(Errors.PermissionNotGiven);
    const perms = r.perms.map((p) => ({ ...p }));
    // etcd: sort.Search for the first permission whose key is >= the new key; only that one is
    // compared (key and range end) for an update in place.
    let idx = 0;
    while (idx < perms.length && Buffer.compare((perms[idx] as Permission).key, perm.key) < 0) idx++;
    const at = perms[idx];
    if (at !== undefined && at.key.equals(perm.key) && at.rangeEnd.equals(perm.rangeEnd)) at.permType = perm.permType;
    else {
      perms.push({ permType: perm.permType, key: Buffer.from(perm.key), rangeEnd: Buffer.from(perm.rangeEnd) });
      // Go's sort.Sort by key (not stable); equal keys keep insertion order here.
      perms.sort((a, b) => Buffer.compare(a.key, b.key));
    }
    this.putRole({ name, perms }, batch);
    this.commitRevision(batch);
  }

  roleRevokePermission(name: string, key: Buffer, rangeEnd: Buffer, batch: WriteBatch): void {
    const r = this.roles.get(name);
    if (r === undefined) throw err(Errors.RoleNotFound);
    const kept = r.perms.filter((p) => !p.key.equals(key) || !p.rangeEnd.equals(rangeEnd));
    if (kept.length === r.perms.length) throw err(Errors.PermissionNotGranted);
    this.putRole({ name, perms: kept }, batch);
    this.commitRevision(batch);
  }
}

export { PermType };
export type { Permission };

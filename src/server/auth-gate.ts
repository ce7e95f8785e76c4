/**
 * The member's auth: the replicated store (auth/auth-store.ts), the tokens (member-local), and
 * every check etcd makes, at the point etcd makes it:
 *
 * - API side (the rpc layer calls these before it proposes or reads): who a call runs as
 *   (etcd AuthInfoFromCtx: the `token` metadata — or `authorization`, the gateway's — and, with
 *   --client-cert-auth and no token, the verified client certificate's CN); reads (Range and
 *   read-only Txn: etcd's doSerialize), Watch creation, the root-only maintenance and
 *   membership calls.
 * - Apply side (applyCheck, called by apply for every entry while auth is enabled): writes with
 *   the stamp their entry carries (etcd's authApplierV3: Put, DeleteRange, every compare and op of
 *   a Txn including nested ones, Put with a lease and LeaseRevoke need write permission on every
 *   key attached to the lease), the Auth service's own requests (root only, except a user reading
 *   itself or one of its roles).
 *
 * Cost: with auth disabled a call costs one metadata lookup (a token is still refused then, as
 * etcd refuses it: checked live) and apply one boolean; with auth enabled, one token lookup and
 * one binary search in the user's merged permissions, cached per auth revision.
 *
 * Invariants: tokens exist only while auth is enabled (enable/disable and reload keep the
 * provider in step with the store); a user's tokens die with a password change or its deletion.
 */
import type tls from 'node:tls';
import { EtcdError, Errors, GrpcCode, GrpcError } from '../api/errors.js';
import type { DeleteRangeRequest, PutRequest, RequestOp, TxnRequest } from '../api/kv-types.js';
import type { Logger } from '../base/logger.js';
import { realRuntime, type Runtime, type TimerHandle } from '../base/runtime.js';
import { AuthStore, PermType, type AuthInfo } from '../auth/auth-store.js';
import { SimpleTokens, simpleTokenIndex } from '../auth/simple-tokens.js';
import { bcryptCostMax, bcryptCostMin, hashPassword, passwordMatches } from '../auth/password.js';
import { JwtOptionsError, JwtTokens, parseJwtOptions } from '../auth/jwt-tokens.js';

/** etcd's default --bcrypt-cost (bcrypt.DefaultCost). */
const bcryptCostDefault = 10;
import type { Backend } from '../storage/backend.js';
import { RequestKind, type InternalRequest } from './internal-request.js';

/** What the gate sees of a call (rpc CallContext). */
export interface CallIdentity {
  readonly metadata: ReadonlyMap<string, string>;
  readonly peerCertificate: unknown;
}

export interface AuthGateOptions {
  /** --auth-token: "simple" (default) or "jwt,pub-key=...,priv-key=...,sign-method=...,ttl=...". */
  authToken?: string;
  /** --auth-token-ttl in ms (simple tokens). */
  tokenTtlMs: number;
  /** --bcrypt-cost. */
  bcryptCost: number;
  /** --client-cert-auth: the client certificate's CN is the user when no token is sent. */
  clientCertAuth: boolean;
  logger: Logger;
  /** How often expired simple tokens are swept (default: the TTL). */
  sweepEveryMs?: number;
  /** Clock and timers (the member's injected runtime; default Node's). */
  runtime?: Runtime;
}

/** Hooks into the member: its applied index, and a wait until the local apply catches up. */
export interface GateHost {
  appliedIndex(): bigint;
  catchUp(): Promise<void>;
}

export class AuthGate {
  readonly tokens: SimpleTokens;
  /** JWT tokens (--auth-token jwt,...) instead of simple ones; null with simple tokens. */
  readonly jwt: JwtTokens | null;
  private sweeper: TimerHandle | null = null;

  readonly opts: AuthGateOptions;

  private constructor(
    readonly store: AuthStore,
    opts: AuthGateOptions,
  ) {
    this.opts = opts;
    const rt = opts.runtime ?? realRuntime;
    this.tokens = new SimpleTokens({ ttlMs: opts.tokenTtlMs, now: () => rt.now() });
    const kind = (opts.authToken ?? 'simple').split(',')[0];
    this.jwt = kind === 'jwt' ? AuthGate.jwtProvider(opts) : null;
    if (kind === 'simple') opts.logger.warn('simple token is not cryptographically signed');
    if (opts.bcryptCost < bcryptCostMin || opts.bcryptCost > bcryptCostMax) {
      // etcd NewAuthStore: an out-of-range --bcrypt-cost falls back to the default.
      opts.logger.warn('use default bcrypt cost instead of the invalid given cost', { 'min-cost': bcryptCostMin, 'max-cost': bcryptCostMax, 'default-cost': bcryptCostDefault, 'given-cost': opts.bcryptCost });
      this.opts = { ...opts, bcryptCost: bcryptCostDefault };
    }
    if (store.enabled) this.tokens.enable();
  }

  /** etcd newTokenProviderJWT: any problem with the options or the keys is "invalid auth options". */
  private static jwtProvider(opts: AuthGateOptions): JwtTokens {
    try {
      return new JwtTokens(parseJwtOptions(opts.authToken as string));
    } catch (e) {
      opts.logger.error('problem loading JWT options', { error: e instanceof Error ? e.message : String(e) });
      throw new JwtOptionsError('auth: invalid auth options');
    }
  }

  static async open(backend: Backend, opts: AuthGateOptions): Promise<AuthGate> {
    const g = new AuthGate(await AuthStore.load(backend), opts);
    g.sweeper = (opts.runtime ?? realRuntime).every(opts.sweepEveryMs ?? Math.max(1000, opts.tokenTtlMs), () => g.tokens.sweep());
    return g;
  }

  /** After a snapshot install: the store is the leader's; tokens follow its enabled flag. */
  async reload(backend: Backend): Promise<void> {
    await this.store.reload(backend);
    if (this.store.enabled) this.tokens.enable();
    else this.tokens.disable();
  }

  stop(): void {
    this.sweeper?.cancel();
    this.sweeper = null;
  }

  get enabled(): boolean {
    return this.store.enabled;
  }

  // ---- who a call runs as ----

  /**
   * etcd AuthInfoFromCtx: null when the call names nobody; throws "invalid auth token" for a
   * token this member does not know. A token assigned by an entry this member has not applied
   * yet (its index is ahead) waits once for the local apply to catch up, as etcd's simple token
   * waits for its index.
   */
  info(ctx: CallIdentity, host?: GateHost): AuthInfo | null | Promise<AuthInfo | null> {
    const md = ctx.metadata;
    const token = md.size === 0 ? undefined : (md.get('token') ?? md.get('authorization'));
    if (token === undefined) return this.store.enabled && this.opts.clientCertAuth ? this.fromCertificate(ctx.peerCertificate) : null;
    if (this.jwt !== null) {
      // A JWT carries its user and auth revision; verified once, then cached.
      const known = this.jwt.cached(token);
      if (known !== undefined) return known;
      return this.jwt.verify(token).then((v) => {
        if (v === undefined) throw new EtcdError(Errors.InvalidAuthToken);
        return v;
      });
    }
    const user = this.tokens.user(token);
    if (user !== undefined) return { username: user, revision: this.store.revision };
    const index = simpleTokenIndex(token);
    if (host === undefined || index === undefined || index <= host.appliedIndex() || !this.store.enabled) throw new EtcdError(Errors.InvalidAuthToken);
    return host.catchUp().then(() => {
      const u = this.tokens.user(token);
      if (u === undefined) throw new EtcdError(Errors.InvalidAuthToken);
      return { username: u, revision: this.store.revision };
    });
  }

  /** etcd AuthInfoFromTLS: the CN of the verified client certificate. */
  private fromCertificate(cert: unknown): AuthInfo | null {
    const subject = (cert as tls.PeerCertificate | undefined)?.subject;
    const cn = subject?.CN as unknown;
    const name = typeof cn === 'string' ? cn : Array.isArray(cn) ? (cn[cn.length - 1] as string) : undefined;
    return name === undefined || name === '' ? null : { username: name, revision: this.store.revision };
  }

  // ---- passwords (etcd CheckPassword; hashing before proposing, etcd 3.5's hashedPassword) ----

  /** The auth revision the password was checked at; "authentication failed" otherwise. */
  async checkPassword(name: string, password: string): Promise<bigint> {
    if (!this.store.enabled) throw new EtcdError(Errors.AuthNotEnabled);
    const u = this.store.user(name);
    const rev = this.store.revision;
    // etcd 3.4 answers with the auth package's own error here (not in the rpctypes table: Unknown).
    if (u?.noPassword) throw new GrpcError(GrpcCode.Unknown, 'auth: authentication failed, password was given for no password user');
    if (u === undefined || !(await passwordMatches(password, u.password))) {
      this.opts.logger.warn('invalid authentication was requested', { user: name, error: 'auth: authentication failed, invalid user ID or password' });
      throw new EtcdError(Errors.AuthFailed);
    }
    return rev;
  }

  hashPassword(password: string): Promise<Buffer> {
    return hashPassword(password, this.opts.bcryptCost);
  }

  // ---- API-side checks ----

  /** Range (etcd doSerialize + IsRangePermitted). */
  checkRange(info: AuthInfo | null, key: Uint8Array, rangeEnd: Uint8Array): void {
    if (!this.store.enabled) return;
    const e = this.store.opError(info, key, rangeEnd, PermType.READ);
    if (e) throw e;
  }

  /** A read-only Txn served locally (etcd checkTxnAuth in doSerialize). */
  checkTxn(info: AuthInfo | null, t: TxnRequest): void {
    if (!this.store.enabled) return;
    const e = this.txnError(info, t);
    if (e) throw e;
  }

  /** etcd doSerialize's last step: the auth state moved while the read ran. */
  checkStillCurrent(info: AuthInfo | null): void {
    if (info !== null && info.revision !== 0n && this.store.enabled && info.revision !== this.store.revision) throw new EtcdError(Errors.AuthOldRevision);
  }

  /** Watch creation (etcd isWatchPermitted): any failure, a bad token included, refuses. */
  watchPermitted(ctx: CallIdentity, key: Uint8Array, rangeEnd: Uint8Array): boolean | Promise<boolean> {
    if (!this.store.enabled && ctx.metadata.get('token') === undefined) return true;
    let info: AuthInfo | null | Promise<AuthInfo | null>;
    try {
      info = this.info(ctx);
    } catch {
      return false;
    }
    const check = (i: AuthInfo | null): boolean => this.store.opError(i, key, rangeEnd, PermType.READ) === null;
    return info instanceof Promise ? info.then(check, () => false) : check(info);
  }

  /** Membership changes (etcd checkMembershipOperationPermission): etcd's errors. */
  checkAdmin(info: AuthInfo | null): void {
    const e = this.store.adminError(info);
    if (e) throw e;
  }

  /**
   * Maintenance calls that need root (Defragment, Hash, HashKV, Snapshot): etcd returns the auth
   * package's own error, not translated, so clients see code Unknown and "auth: ..." texts
   * (checked live: "rpc error: code = Unknown desc = auth: permission denied").
   */
  async checkMaintenance(ctx: CallIdentity, host?: GateHost): Promise<void> {
    if (!this.store.enabled && ctx.metadata.get('token') === undefined) return;
    try {
      this.checkAdmin(await this.info(ctx, host));
    } catch (e) {
      if (e instanceof EtcdError) throw new GrpcError(GrpcCode.Unknown, e.message.replace(/^etcdserver: /, 'auth: '));
      throw e;
    }
  }

  // ---- apply-side checks (etcd authApplierV3) ----

  /** Null when the entry may apply; else the error it answers. One boolean while auth is off. */
  applyCheck(r: InternalRequest, leaseKeys: (id: bigint) => Buffer[]): EtcdError | null {
    if (!this.store.enabled) return null;
    const who = r.auth ?? null;
    switch (r.kind) {
      case RequestKind.Put:
        return this.putError(who, r.req, leaseKeys);
      case RequestKind.DeleteRange:
        return this.deleteError(who, r.req);
      case RequestKind.Txn:
        return this.txnError(who, r.req);
      case RequestKind.LeaseRevoke:
        return this.leaseKeysError(who, r.req.ID, leaseKeys);
      case RequestKind.Auth: {
        const op = r.req;
        if (op.op === 'authenticate' || op.op === 'authStatus') return null;
        const admin = this.store.adminError(who);
        // A user may read itself and the roles it holds (etcd UserGet / RoleGet).
        if (op.op === 'userGet') return admin !== null && op.name !== who?.username ? admin : null;
        if (op.op === 'roleGet') return admin !== null && !this.store.hasRole(who?.username ?? '', op.role) ? admin : null;
        return admin;
      }
      default:
        return null;
    }
  }

  private putError(who: AuthInfo | null, p: PutRequest, leaseKeys: (id: bigint) => Buffer[]): EtcdError | null {
    const w = this.store.opError(who, p.key, empty, PermType.WRITE);
    if (w) return w;
    // A key may not join a lease whose keys this user could not write (it could not revoke it).
    if (p.lease !== 0n) {
      const l = this.leaseKeysError(who, p.lease, leaseKeys);
      if (l) return l;
    }
    return p.prev_kv ? this.store.opError(who, p.key, empty, PermType.READ) : null;
  }

  private deleteError(who: AuthInfo | null, d: DeleteRangeRequest): EtcdError | null {
    return this.store.opError(who, d.key, d.range_end, PermType.WRITE) ?? (d.prev_kv ? this.store.opError(who, d.key, d.range_end, PermType.READ) : null);
  }

  private leaseKeysError(who: AuthInfo | null, id: bigint, leaseKeys: (id: bigint) => Buffer[]): EtcdError | null {
    for (const k of leaseKeys(id)) {
      const e = this.store.opError(who, k, empty, PermType.WRITE);
      if (e) return e;
    }
    return null;
  }

  /** etcd checkTxnAuth: every compare reads its range; every op as its own kind (nested too). */
  private txnError(who: AuthInfo | null, t: TxnRequest): EtcdError | null {
    for (const c of t.compare) {
      const e = this.store.opError(who, c.key, c.range_end, PermType.READ);
      if (e) return e;
    }
    return this.opsError(who, t.success) ?? this.opsError(who, t.failure);
  }

  private opsError(who: AuthInfo | null, ops: RequestOp[]): EtcdError | null {
    for (const op of ops) {
      let e: EtcdError | null = null;
      if (op.request === 'request_range' && op.request_range) e = this.store.opError(who, op.request_range.key, op.request_range.range_end, PermType.READ);
      else if (op.request === 'request_put' && op.request_put) e = this.store.opError(who, op.request_put.key, empty, PermType.WRITE);
      else if (op.request === 'request_delete_range' && op.request_delete_range) {
        const d = op.request_delete_range;
        e = (d.prev_kv ? this.store.opError(who, d.key, d.range_end, PermType.READ) : null) ?? this.store.opError(who, d.key, d.range_end, PermType.WRITE);
      } else if (op.request === 'request_txn' && op.request_txn) e = this.txnError(who, op.request_txn);
      if (e) return e;
    }
    return null;
  }
}

const empty = new Uint8Array(0);

// What the rpc layer needs of auth/ (it imports server/, not auth/).
export type { AuthInfo, Permission } from '../auth/auth-store.js';
export type { AuthOp, AuthOpResult } from '../auth/auth-ops.js';
export { PermType, rootRole, rootUser } from '../auth/auth-store.js';
export { SimpleTokens } from '../auth/simple-tokens.js';
export { JwtOptionsError } from '../auth/jwt-tokens.js';

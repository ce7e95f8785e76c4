/**
 * etcdserverpb.Auth (etcd v3rpc/auth.go + v3_server.go): every method goes through Raft as one
 * internal Auth request carrying who asked (server/auth-gate.ts checks it at apply: root only,
 * except a user reading itself or its roles), reads included, so answers are linearizable.
 *
 * - Authenticate: after a linearizable read, the password is checked here (bcrypt, off the event
 *   loop), then only the user name and a fresh token prefix are proposed; the entry's apply
 *   assigns `<prefix>.<index>` on every member. If the auth revision moved between the check
 *   and the apply (the password may have changed), it starts again (etcd does the same, without
 *   a bound).
 * - UserAdd / UserChangePassword: the password is hashed here and only the hash is proposed (a
 *   client may send etcd 3.5's hashedPassword instead); --no-password users have none.
 * - Responses carry the usual header (revision = the KV store's).
 */
import { toWire } from '../api/convert.js';
import { EtcdError, Errors } from '../api/errors.js';
import type { AuthInfo, AuthOp, AuthOpResult, GateHost, Permission } from '../server/auth-gate.js';
import { SimpleTokens } from '../server/auth-gate.js';
import type { ServerApi } from '../server/server-api.js';
import type { CallContext } from './h2/grpc-server.js';
import { unary, type ServiceImpl } from './unary.js';

/** Authenticate restarts at most this many times when the auth state moves under it. */
export const authenticateRoundsMax = 10;

/** The member as auth-gate.ts needs it for a token minted by an entry not applied here yet. */
export function gateHost(server: ServerApi): GateHost {
  return { appliedIndex: () => server.applied(), catchUp: () => server.linearizableRead() };
}

/** Who the call runs as (auth-gate.ts info), awaited. */
export async function callerOf(server: ServerApi, ctx: CallContext, host: GateHost): Promise<AuthInfo | null> {
  const i = server.auth.info(ctx, host);
  return i instanceof Promise ? await i : i;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const bytes = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : Buffer.alloc(0));

function wirePerm(p: Permission): Record<string, unknown> {
  return { permType: p.permType, key: p.key, range_end: p.rangeEnd };
}

export function authHandlers(server: ServerApi): ServiceImpl {
  const host = gateHost(server);
  /** Proposes `op` as the caller and shapes the answer. */
  const call = (respType: string, toOp: (wire: Record<string, unknown>) => AuthOp | Promise<AuthOp>, shape: (r: AuthOpResult) => Record<string, unknown> = () => ({})) =>
    unary(async (wire, ctx) => {
      const who = await callerOf(server, ctx, host);
      const r = await server.authRequest(await toOp(wire), who ?? undefined);
      return toWire(respType, { header: server.header(), ...shape(r) });
    });
  const hashOf = async (w: Record<string, unknown>): Promise<Buffer> => {
    const given = str(w.hashedPassword);
    return given !== '' ? Buffer.from(given) : server.auth.hashPassword(str(w.password));
  };
  return {
    AuthEnable: call('etcdserverpb.AuthEnableResponse', () => ({ op: 'authEnable' })),
    AuthDisable: call('etcdserverpb.AuthDisableResponse', () => ({ op: 'authDisable' })),
    AuthStatus: call('etcdserverpb.AuthStatusResponse', () => ({ op: 'authStatus' }), (r) => ({ enabled: r.enabled === true, authRevision: r.authRevision ?? 0n })),
    Authenticate: unary(async (wire, ctx) => {
      const name = str(wire.name);
      const password = str(wire.password);
      await server.linearizableRead();
      for (let round = 0; round < authenticateRoundsMax; round++) {
        const checked = await server.auth.checkPassword(name, password);
        // etcd proposes through raftRequestOnce, which refuses a bad token the call carries.
        await callerOf(server, ctx, host);
        const r = await server.authRequest({ op: 'authenticate', name, tokenPrefix: SimpleTokens.prefix() });
        if (checked === server.auth.store.revision) {
          const jwt = server.auth.jwt;
          const token = jwt !== null ? await jwt.sign(name, r.authRevision ?? checked) : (r.token ?? '');
          return toWire('etcdserverpb.AuthenticateResponse', { header: server.header(), token });
        }
        server.opts.logger.info('revision when password checked became stale; retrying');
      }
      throw new EtcdError(Errors.AuthOldRevision);
    }),
    UserAdd: call('etcdserverpb.AuthUserAddResponse', async (w) => {
      const noPassword = (w.options as { no_password?: boolean } | null | undefined)?.no_password === true;
      // The empty name fails at apply ("user name is empty") without hashing anything.
      const hashed = noPassword || str(w.name) === '' ? Buffer.alloc(0) : await hashOf(w);
      return { op: 'userAdd', name: str(w.name), hashedPassword: hashed, noPassword };
    }),
    UserGet: call('etcdserverpb.AuthUserGetResponse', (w) => ({ op: 'userGet', name: str(w.name) }), (r) => ({ roles: r.roles ?? [] })),
    UserList: call('etcdserverpb.AuthUserListResponse', () => ({ op: 'userList' }), (r) => ({ users: r.users ?? [] })),
    UserDelete: call('etcdserverpb.AuthUserDeleteResponse', (w) => ({ op: 'userDelete', name: str(w.name) })),
    UserChangePassword: call('etcdserverpb.AuthUserChangePasswordResponse', async (w) => ({
      op: 'userChangePassword',
      name: str(w.name),
      hashedPassword: server.auth.store.user(str(w.name))?.noPassword ? Buffer.alloc(0) : await hashOf(w),
    })),
    UserGrantRole: call('etcdserverpb.AuthUserGrantRoleResponse', (w) => ({ op: 'userGrantRole', user: str(w.user), role: str(w.role) })),
    UserRevokeRole: call('etcdserverpb.AuthUserRevokeRoleResponse', (w) => ({ op: 'userRevokeRole', name: str(w.name), role: str(w.role) })),
    RoleAdd: call('etcdserverpb.AuthRoleAddResponse', (w) => ({ op: 'roleAdd', name: str(w.name) })),
    RoleGet: call('etcdserverpb.AuthRoleGetResponse', (w) => ({ op: 'roleGet', role: str(w.role) }), (r) => ({ perm: (r.perm ?? []).map(wirePerm) })),
    RoleList: call('etcdserverpb.AuthRoleListResponse', () => ({ op: 'roleList' }), (r) => ({ roles: r.roles ?? [] })),
    RoleDelete: call('etcdserverpb.AuthRoleDeleteResponse', (w) => ({ op: 'roleDelete', role: str(w.role) })),
    RoleGrantPermission: call('etcdserverpb.AuthRoleGrantPermissionResponse', (w) => {
      const p = w.perm as { permType?: number; key?: unknown; range_end?: unknown } | null | undefined;
      const perm = p ? { permType: p.permType ?? 0, key: bytes(p.key), rangeEnd: bytes(p.range_end) } : null;
      return { op: 'roleGrantPermission', name: str(w.name), perm };
    }),
    RoleRevokePermission: call('etcdserverpb.AuthRoleRevokePermissionResponse', (w) => ({
      op: 'roleRevokePermission',
      role: str(w.role),
      key: bytes(w.key),
      rangeEnd: bytes(w.range_end),
    })),
  };
}

/**
 * Apply of the Auth service's requests (etcd applierV3backend's Auth* methods over the auth
 * store). The apply chain (apply-chain.ts AuthStage) has run AuthGate.applyCheck first (root
 * only, except reading oneself or one's roles). Results are plain values (auth/auth-ops.ts AuthOpResult); errors
 * are EtcdErrors, answered to the proposer like any other apply result.
 *
 * Side effects beyond the store, kept in step on every member: Authenticate assigns the simple
 * token `<prefix>.<entry index>`; enabling auth starts the token provider, disabling it drops
 * every token; a password change or a user's deletion drops that user's tokens.
 */
import type { AuthOp, AuthOpResult } from '../auth/auth-ops.js';
import type { WriteBatch } from '../storage/backend.js';
import type { AuthGate } from './auth-gate.js';

export function applyAuth(gate: AuthGate, op: AuthOp, batch: WriteBatch, index: bigint): AuthOpResult {
  const s = gate.store;
  switch (op.op) {
    case 'authEnable':
      s.enable(batch);
      gate.tokens.enable();
      return {};
    case 'authDisable':
      s.disable(batch);
      gate.tokens.disable();
      return {};
    case 'authStatus':
      return { enabled: s.enabled, authRevision: s.revision };
    case 'authenticate':
      s.checkAuthenticate(op.name);
      // A JWT is signed by the proposer once this answers (it needs no state on the members).
      return { token: gate.jwt !== null ? '' : gate.tokens.assign(op.name, op.tokenPrefix, index), authRevision: s.revision };
    case 'userAdd':
      s.userAdd(op.name, op.hashedPassword, op.noPassword, batch);
      return {};
    case 'userGet':
      return { roles: s.userGet(op.name) };
    case 'userList':
      return { users: s.userNames() };
    case 'userDelete':
      s.userDelete(op.name, batch);
      gate.tokens.invalidateUser(op.name);
      return {};
    case 'userChangePassword':
      s.userChangePassword(op.name, op.hashedPassword, batch);
      gate.tokens.invalidateUser(op.name);
      return {};
    case 'userGrantRole':
      s.userGrantRole(op.user, op.role, batch);
      return {};
    case 'userRevokeRole':
      s.userRevokeRole(op.name, op.role, batch);
      return {};
    case 'roleAdd':
      s.roleAdd(op.name, batch);
      return {};
    case 'roleGet':
      return { perm: s.roleGet(op.role) };
    case 'roleList':
      return { roles: s.roleNames() };
    case 'roleDelete':
      s.roleDelete(op.role, batch);
      return {};
    case 'roleGrantPermission':
      s.roleGrantPermission(op.name, op.perm, batch);
      return {};
    case 'roleRevokePermission':
      s.roleRevokePermission(op.role, op.key, op.rangeEnd, batch);
      return {};
  }
}

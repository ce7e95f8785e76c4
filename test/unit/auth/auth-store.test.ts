/**
 * auth/auth-store.ts: etcd's rules (checked live on 3.4.23) — revision bumps, root rules,
 * errors — and that the state persisted in the apply batches is what a reload rebuilds.
 * Also the simple tokens' sliding TTL and JWT option parsing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EtcdError, Errors, type ErrorSpec } from '../../../src/api/errors.js';
import { AuthStore } from '../../../src/auth/auth-store.js';
import { parseJwtOptions } from '../../../src/auth/jwt-tokens.js';
import { PermType } from '../../../src/auth/permissions.js';
import { hashPassword, passwordMatches } from '../../../src/auth/password.js';
import { SimpleTokens, simpleTokenIndex } from '../../../src/auth/simple-tokens.js';
import { Backend, WriteBatch } from '../../../src/storage/backend.js';

async function fresh(): Promise<{ backend: Backend; store: AuthStore }> {
  const backend = await Backend.open(path.join(mkdtempSync(path.join(tmpdir(), 'etcdts-auth-')), 'db'));
  return { backend, store: await AuthStore.load(backend) };
}

function fails(spec: ErrorSpec, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EtcdError);
    expect((e as EtcdError).spec).toBe(spec);
    return;
  }
  throw new Error(`expected ${spec.message}`);
}

describe('auth store (etcd auth/store.go rules)', () => {
  it('counts revisions as etcd: fresh 1, +1 per change, none for enable or a repeated grant', async () => {
    const { backend, store: s } = await fresh();
    const b = new WriteBatch();
    expect(s.revision).toBe(1n);
    s.userAdd('root', Buffer.from('h'), false, b);
    expect(s.revision).toBe(2n);
    fails(Errors.RootRoleNotExist, () => s.enable(b));
    s.roleAdd('root', b);
    s.userGrantRole('root', 'root', b);
    expect(s.revision).toBe(4n);
    s.enable(b);
    expect(s.revision).toBe(4n);
    s.userGrantRole('root', 'root', b);
    expect(s.revision).toBe(4n);
    s.disable(b);
    expect(s.revision).toBe(5n);
    await backend.commit(b, true);
    await backend.close();
  });

  it('refuses with etcd\'s errors', async () => {
    const { store: s } = await fresh();
    const b = new WriteBatch();
    fails(Errors.RootUserNotExist, () => s.enable(b));
    fails(Errors.UserEmpty, () => s.userAdd('', Buffer.alloc(0), false, b));
    fails(Errors.RoleEmpty, () => s.roleAdd('', b));
    s.userAdd('root', Buffer.from('h'), false, b);
    fails(Errors.UserAlreadyExist, () => s.userAdd('root', Buffer.from('h'), false, b));
    fails(Errors.RoleNotFound, () => s.userGrantRole('root', 'nope', b));
    s.userGrantRole('root', 'root', b); // role root need not exist
    fails(Errors.UserNotFound, () => s.userGrantRole('nobody', 'root', b));
    fails(Errors.RoleNotGranted, () => s.userRevokeRole('root', 'other', b));
    s.roleAdd('r', b);
    fails(Errors.RoleAlreadyExist, () => s.roleAdd('r', b));
    fails(Errors.PermissionNotGranted, () => s.roleRevokePermission('r', Buffer.from('k'), Buffer.alloc(0), b));
    fails(Errors.PermissionNotGiven, () => s.roleGrantPermission('r', null, b));
    s.enable(b);
    fails(Errors.InvalidAuthMgmt, () => s.userDelete('root', b));
    fails(Errors.InvalidAuthMgmt, () => s.userRevokeRole('root', 'root', b));
    s.roleAdd('root', b);
    fails(Errors.InvalidAuthMgmt, () => s.roleDelete('root', b));
    expect(s.adminError(null)?.spec).toBe(Errors.UserEmpty);
    expect(s.adminError({ username: 'ghost', revision: s.revision })?.spec).toBe(Errors.UserNotFound);
    expect(s.adminError({ username: 'root', revision: s.revision })).toBeNull();
  });

  it('checks permissions per user with the revision rule, root passing everything', async () => {
    const { store: s } = await fresh();
    const b = new WriteBatch();
    s.userAdd('root', Buffer.from('h'), false, b);
    s.userGrantRole('root', 'root', b);
    s.userAdd('alice', Buffer.from('h'), false, b);
    s.roleAdd('r', b);
    s.roleGrantPermission('r', { permType: PermType.READ, key: Buffer.from('a'), rangeEnd: Buffer.from('b') }, b);
    s.userGrantRole('alice', 'r', b);
    s.enable(b);
    const alice = { username: 'alice', revision: s.revision };
    const k = (x: string): Buffer => Buffer.from(x);
    expect(s.opError(alice, k('a1'), Buffer.alloc(0), PermType.READ)).toBeNull();
    expect(s.opError(alice, k('a1'), Buffer.alloc(0), PermType.WRITE)?.spec).toBe(Errors.PermissionDenied);
    expect(s.opError({ username: 'root', revision: s.revision }, k('zz'), Buffer.from([0]), PermType.WRITE)).toBeNull();
    expect(s.opError(null, k('a1'), Buffer.alloc(0), PermType.READ)?.spec).toBe(Errors.UserEmpty);
    // Granting write moves the revision: alice's old revision is now refused, a new one passes.
    s.roleGrantPermission('r', { permType: PermType.READWRITE, key: Buffer.from('a'), rangeEnd: Buffer.from('b') }, b);
    expect(s.opError(alice, k('a1'), Buffer.alloc(0), PermType.WRITE)?.spec).toBe(Errors.AuthOldRevision);
    expect(s.opError({ ...alice, revision: s.revision }, k('a1'), Buffer.alloc(0), PermType.WRITE)).toBeNull();
    expect(s.roleGet('r')).toHaveLength(1); // same key and range end: type replaced
    s.roleDelete('r', b);
    expect(s.user('alice')?.roles).toEqual([]);
  });

  it('rebuilds from the backend exactly what apply wrote', async () => {
    const { backend, store: s } = await fresh();
    const b = new WriteBatch();
    s.userAdd('root', Buffer.from('hash'), false, b);
    s.userAdd('bob', Buffer.alloc(0), true, b);
    s.roleAdd('r', b);
    s.roleGrantPermission('r', { permType: PermType.WRITE, key: Buffer.from('k'), rangeEnd: Buffer.from([0]) }, b);
    s.userGrantRole('root', 'root', b);
    s.userGrantRole('bob', 'r', b);
    s.enable(b);
    await backend.commit(b, true);
    const again = await AuthStore.load(backend);
    expect(again.enabled).toBe(true);
    expect(again.revision).toBe(s.revision);
    expect(again.userNames()).toEqual(['bob', 'root']);
    expect(again.user('bob')).toEqual(s.user('bob'));
    expect(again.user('root')?.password.toString()).toBe('hash');
    expect(again.roleGet('r')).toEqual(s.roleGet('r'));
    await backend.close();
  });
});

describe('passwords', () => {
  it('are bcrypt hashes at --bcrypt-cost, checked by bcrypt', async () => {
    const h = await hashPassword('pw', 4);
    expect(h.toString()).toMatch(/^\$2b\$04\$/);
    expect(await passwordMatches('pw', h)).toBe(true);
    expect(await passwordMatches('nope', h)).toBe(false);
    expect(await passwordMatches('pw', Buffer.alloc(0))).toBe(false);
  });
});

describe('simple tokens', () => {
  it('live --auth-token-ttl after their last use, die with their user, and name their entry index', () => {
    let now = 1000;
    const t = new SimpleTokens({ ttlMs: 5000, now: () => now });
    t.enable();
    const tok = t.assign('alice', SimpleTokens.prefix(), 42n);
    expect(tok).toMatch(/^[a-zA-Z]{16}\.42$/);
    expect(simpleTokenIndex(tok)).toBe(42n);
    now += 4000;
    expect(t.user(tok)).toBe('alice');
    now += 4000; // 8 s after assignment, 4 s after last use
    expect(t.user(tok)).toBe('alice');
    now += 5001;
    expect(t.user(tok)).toBeUndefined();
    const t2 = t.assign('bob', 'x', 1n);
    t.invalidateUser('bob');
    expect(t.user(t2)).toBeUndefined();
    const t3 = t.assign('carol', 'y', 2n);
    t.disable();
    expect(t.user(t3)).toBeUndefined();
  });
});

describe('JWT options (--auth-token jwt,...)', () => {
  it('reads etcd\'s option names and refuses what etcd refuses', () => {
    expect(parseJwtOptions('jwt,pub-key=/p,priv-key=/k,sign-method=ES256,ttl=10m')).toEqual({ signMethod: 'ES256', pubKeyFile: '/p', privKeyFile: '/k', ttlMs: 600_000 });
    expect(parseJwtOptions('jwt,priv-key=/k,sign-method=RS256').ttlMs).toBe(300_000);
    expect(() => parseJwtOptions('jwt,priv-key=/k,sign-method=XX256')).toThrow('auth: invalid auth signature method');
    expect(() => parseJwtOptions('jwt,priv-key=/k,sign-method=RS256,color=red')).toThrow('auth: invalid auth options');
    expect(() => parseJwtOptions('jwt,sign-method=RS256')).toThrow('auth: invalid auth options');
  });
});

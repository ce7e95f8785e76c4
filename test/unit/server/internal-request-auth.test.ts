/**
 * The auth stamp of internal requests: a request made while auth is on carries its user and auth
 * revision after the id (kind byte's high bit set); without it the bytes are exactly the old
 * format. Auth ops (JSON bodies) round-trip with their byte strings.
 */
import { describe, expect, it } from 'vitest';
import { decodeInternal, encodeInternal, internalKind, RequestKind, type InternalRequest } from '../../../src/server/internal-request.js';

describe('internal requests with an auth stamp', () => {
  const put: InternalRequest = {
    kind: RequestKind.Put,
    id: 0x0102030405060708n,
    req: { key: Buffer.from('k'), value: Buffer.from('v'), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false },
  };

  it('round-trip with and without a stamp; the unstamped bytes are unchanged', () => {
    const plain = encodeInternal(put);
    expect(plain[0]).toBe(RequestKind.Put);
    const stamped = encodeInternal({ ...put, auth: { username: 'ålice', revision: 7n } });
    expect(stamped[0]).toBe(RequestKind.Put | 0x80);
    expect(internalKind(stamped)).toBe(RequestKind.Put);
    expect(Buffer.from(stamped.subarray(stamped.length - (plain.length - 9)))).toEqual(Buffer.from(plain.subarray(9)));
    const back = decodeInternal(stamped);
    expect(back.auth).toEqual({ username: 'ålice', revision: 7n });
    expect(back.kind).toBe(RequestKind.Put);
    expect(back.id).toBe(put.id);
    expect(decodeInternal(plain).auth).toBeUndefined();
  });

  it('carries Auth ops, byte strings included', () => {
    const op: InternalRequest = {
      kind: RequestKind.Auth,
      id: 9n,
      req: { op: 'roleGrantPermission', name: 'r', perm: { permType: 2, key: Buffer.from([0, 255]), rangeEnd: Buffer.from([0]) } },
      auth: { username: 'root', revision: 3n },
    };
    expect(decodeInternal(encodeInternal(op))).toEqual(op);
    const add: InternalRequest = { kind: RequestKind.Auth, id: 10n, req: { op: 'userAdd', name: 'u', hashedPassword: Buffer.from('$2b$10$x'), noPassword: false } };
    expect(decodeInternal(encodeInternal(add))).toEqual(add);
  });
});

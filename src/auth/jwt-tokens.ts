/**
 * JWT tokens (etcd auth/jwt.go, --auth-token jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>,ttl=<duration>),
 * signed and verified with `jose` (panva/jose: the maintained, dependency-free JOSE library that
 * implements every algorithm etcd offers). As etcd's: the claims are {"exp","revision","username"}
 * (in that order, as Go's map encoding writes them), the header {"alg":...,"typ":"JWT"}; a token is
 * stateless — valid on every member until it expires, and "old" once the auth revision moved past
 * the one it carries (then requests fail with "revision of auth store is old" and clients
 * authenticate again). With only pub-key, a member verifies tokens but cannot issue them.
 *
 * Verified tokens are cached (bounded), so a request with a known token costs one map lookup.
 * At the cap the cache evicts by CLOCK (ClockMap: a token used since eviction last passed it is
 * kept over an idle one; O(1) however many expired entries were deleted).
 *
 * Invariant: a cached entry is dropped once its expiry has passed; the cache never holds more
 * than verifiedMax entries.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jwtVerify, SignJWT } from 'jose';
import { ClockMap } from '../base/clock-map.js';

export const jwtSignMethods = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512'] as const;
export type JwtSignMethod = (typeof jwtSignMethods)[number];

/** etcd's default JWT ttl (5 minutes). */
export const jwtTtlMsDefault = 5 * 60 * 1000;
/** Verified tokens kept in the cache at most. */
export const verifiedMax = 10_000;

export class JwtOptionsError extends Error {
  override name = 'JwtOptionsError';
}

export interface JwtOptions {
  signMethod: JwtSignMethod;
  pubKeyFile: string;
  privKeyFile: string;
  ttlMs: number;
}

/** Go duration ("10m", "1h30m", "300s", "1.5s") in ms. */
function durationMs(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    consumed += m[0].length;
  }
  if (consumed !== s.length || s === '') throw new JwtOptionsError('auth: invalid auth options');
  return total;
}

/** The value of --auth-token (after "jwt,"): etcd's option names and errors. */
export function parseJwtOptions(flag: string): JwtOptions {
  const parts = flag.split(',');
  if (parts[0] !== 'jwt') throw new JwtOptionsError('auth: invalid auth options');
  const o: Partial<JwtOptions> = { pubKeyFile: '', privKeyFile: '', ttlMs: jwtTtlMsDefault };
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq < 0) throw new JwtOptionsError('auth: invalid auth options');
    const [k, v] = [p.slice(0, eq), p.slice(eq + 1)];
    if (k === 'pub-key') o.pubKeyFile = v;
    else if (k === 'priv-key') o.privKeyFile = v;
    else if (k === 'sign-method') {
      if (!(jwtSignMethods as readonly string[]).includes(v)) throw new JwtOptionsError('auth: invalid auth signature method');
      o.signMethod = v as JwtSignMethod;
    } else if (k === 'ttl') o.ttlMs = durationMs(v);
    else throw new JwtOptionsError('auth: invalid auth options');
  }
  if (o.signMethod === undefined) throw new JwtOptionsError('auth: invalid auth signature method');
  if (o.pubKeyFile === '' && o.privKeyFile === '') throw new JwtOptionsError('auth: invalid auth options');
  return o as JwtOptions;
}

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new JwtOptionsError(`open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : String(e)}`);
  }
}

interface Verified {
  username: string;
  revision: bigint;
  expiresAtMs: number;
}

export class JwtTokens {
  private readonly signKey: KeyObject | null;
  private readonly verifyKey: KeyObject;
  private readonly verified: ClockMap<string, Verified>;

  /** `cacheMax`: verified tokens cached at most (verifiedMax). */
  constructor(
    readonly opts: JwtOptions,
    cacheMax = verifiedMax,
  ) {
    this.verified = new ClockMap(cacheMax);
    try {
      if (opts.signMethod.startsWith('HS')) {
        const secret = read(opts.privKeyFile !== '' ? opts.privKeyFile : opts.pubKeyFile);
        this.signKey = createSecretKey(secret);
        this.verifyKey = this.signKey;
      } else {
        this.signKey = opts.privKeyFile !== '' ? createPrivateKey(read(opts.privKeyFile)) : null;
        this.verifyKey = opts.pubKeyFile !== '' ? createPublicKey(read(opts.pubKeyFile)) : createPublicKey(this.signKey as KeyObject);
      }
    } catch (e) {
      if (e instanceof JwtOptionsError) throw e;
      throw new JwtOptionsError(`auth: failed to load JWT keys: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** A token for `username` at auth revision `revision` (etcd tokenJWT.assign). */
  async sign(username: string, revision: bigint, nowMs = Date.now()): Promise<string> {
    if (this.signKey === null) throw new JwtOptionsError('auth: JWT token provider has no private key; it can only verify tokens');
    const exp = Math.floor((nowMs + this.opts.ttlMs) / 1000);
    return new SignJWT({ exp, revision: Number(revision), username }).setProtectedHeader({ alg: this.opts.signMethod, typ: 'JWT' }).sign(this.signKey);
  }

  /** Who a token names, from the cache (undefined: not cached or expired there). */
  cached(token: string, nowMs = Date.now()): { username: string; revision: bigint } | undefined {
    const v = this.verified.get(token);
    if (v === undefined) return undefined;
    if (v.expiresAtMs <= nowMs) {
      this.verified.delete(token);
      return undefined;
    }
    return { username: v.username, revision: v.revision };
  }

  /** Verifies signature and expiry (etcd tokenJWT.info); undefined for any invalid token. */
  async verify(token: string): Promise<{ username: string; revision: bigint } | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.verifyKey, { algorithms: [this.opts.signMethod] });
      const username = payload['username'];
      const revision = payload['revision'];
      if (typeof username !== 'string' || typeof revision !== 'number' || typeof payload.exp !== 'number') return undefined;
      this.verified.set(token, { username, revision: BigInt(revision), expiresAtMs: payload.exp * 1000 });
      return { username, revision: BigInt(revision) };
    } catch {
      return undefined;
    }
  }
}

/**
 * Simple tokens (etcd auth/simple_token.go, --auth-token simple, the default): 16 random letters,
 * a dot and the Raft index of the Authenticate entry that assigned it ("sssvIpwfnLAcWAQH.9").
 * Each member assigns the token when it applies that entry, so a token works on every member.
 * A token lives --auth-token-ttl seconds after its last use (etcd's keeper resets the TTL on each
 * use; checked live: a token used every 3 s outlives a 5 s TTL, an idle one dies); disabling auth,
 * a password change and a user's deletion drop that user's tokens.
 *
 * This is member-local, not replicated state: expiry reads the clock, as etcd's keeper does; it
 * never decides an apply result.
 *
 * etcd's keeper has no cap; here at most tokensMax tokens are kept, evicted by CLOCK (ClockMap):
 * the oldest token not used since eviction last passed it goes first, so a client that keeps
 * using its token is not logged out by a flood of new ones, and eviction stays O(1) however many
 * tokens expire or are invalidated (a Map used as a FIFO walked every deleted slot).
 *
 * Invariants: a token maps to exactly one user; `byUser` lists exactly the live tokens of each
 * user (both maps change together, eviction included); at most `max` tokens are kept.
 */
import { randomInt } from 'node:crypto';
import { ClockMap } from '../base/clock-map.js';

/** Tokens kept at most (a client that authenticates in a loop cannot grow memory without end). */
export const tokensMax = 100_000;
const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const prefixLetters = 16;

export interface SimpleTokenOptions {
  ttlMs: number;
  now?: () => number;
  /** Tokens kept at most (tokensMax). */
  max?: number;
}

interface Entry {
  user: string;
  expiresAt: number;
}

export class SimpleTokens {
  private readonly tokens: ClockMap<string, Entry>;
  private readonly byUser = new Map<string, Set<string>>();
  private readonly now: () => number;
  private enabled = false;

  constructor(private readonly opts: SimpleTokenOptions) {
    this.now = opts.now ?? Date.now;
    this.tokens = new ClockMap(opts.max ?? tokensMax, (token, e) => this.forget(token, e));
  }

  /** etcd's genTokenPrefix: 16 random ASCII letters. */
  static prefix(): string {
    let s = '';
    for (let i = 0; i < prefixLetters; i++) s += letters[randomInt(letters.length)];
    return s;
  }

  enable(): void {
    this.enabled = true;
  }

  disable(): void {
    this.enabled = false;
    this.tokens.clear();
    this.byUser.clear();
  }

  /** Called when the Authenticate entry at `index` applies: the token is `<prefix>.<index>`. */
  assign(user: string, prefix: string, index: bigint): string {
    const token = `${prefix}.${index}`;
    if (!this.enabled) return token;
    this.tokens.set(token, { user, expiresAt: this.now() + this.opts.ttlMs });
    let set = this.byUser.get(user);
    if (set === undefined) this.byUser.set(user, (set = new Set()));
    set.add(token);
    return token;
  }

  /** The user of a live token (its TTL starts again; eviction spares it once), or undefined. */
  user(token: string): string | undefined {
    const e = this.tokens.get(token);
    if (e === undefined) return undefined;
    const now = this.now();
    if (e.expiresAt <= now) {
      this.drop(token);
      return undefined;
    }
    e.expiresAt = now + this.opts.ttlMs;
    return e.user;
  }

  invalidateUser(user: string): void {
    for (const t of this.byUser.get(user) ?? []) this.tokens.delete(t);
    this.byUser.delete(user);
  }

  /** Drops expired tokens (run now and then; lookups also drop the expired ones they meet). */
  sweep(): void {
    const now = this.now();
    for (const [t, e] of this.tokens.entries()) if (e.expiresAt <= now) this.drop(t);
  }

  get size(): number {
    return this.tokens.size;
  }

  private drop(token: string): void {
    const e = this.tokens.peek(token);
    if (e === undefined) return;
    this.tokens.delete(token);
    this.forget(token, e);
  }

  /** Removes a token that left `tokens` from its user's set. */
  private forget(token: string, e: Entry): void {
    const set = this.byUser.get(e.user);
    set?.delete(token);
    if (set?.size === 0) this.byUser.delete(e.user);
  }
}

/** The Raft index a simple token names (after the last dot), or undefined for another shape. */
export function simpleTokenIndex(token: string): bigint | undefined {
  const dot = token.lastIndexOf('.');
  if (dot < 0) return undefined;
  const tail = token.slice(dot + 1);
  return /^[0-9]{1,19}$/.test(tail) ? BigInt(tail) : undefined;
}

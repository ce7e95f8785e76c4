/**
 * Keepalives a follower forwards to the leader, batched: renewals asked for in the same turn of
 * the event loop travel as ONE peer request (up to `forwardBatchMax` ids), and the leader
 * answers with the TTLs in the same order. etcd forwards each renewal as its own HTTP request;
 * one request per batch keeps a follower serving many keepalive streams from being bound by
 * peer round trips.
 *
 * Wire (our own, peer-to-peer only): the request body is the ids as 8-byte big-endian two's
 * complement, concatenated; the answer is the TTLs in the same encoding and order.
 *
 * Invariants: every renewal handed to `renew` settles exactly once (the batch's answer, or its
 * failure); an answer with a count different from the request's fails the whole batch.
 */
import { assert } from '../base/assert.js';
import { u64FromBytesBE, u64ToBytesBE } from '../base/int64.js';

export const leaseKindKeepAliveBatch = 'lease-keepalive-batch';
export const forwardBatchMax = 1000;

export function encodeI64s(xs: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(8 * xs.length);
  xs.forEach((x, i) => u64ToBytesBE(BigInt.asUintN(64, x), out, 8 * i));
  return out;
}

export function decodeI64s(b: Uint8Array): bigint[] {
  assert(b.length % 8 === 0, `batch of ${b.length} bytes`);
  const out: bigint[] = [];
  for (let i = 0; i < b.length; i += 8) out.push(BigInt.asIntN(64, u64FromBytesBE(b, i)));
  return out;
}

interface Pending {
  id: bigint;
  resolve(ttl: bigint): void;
  reject(err: unknown): void;
}

export class KeepAliveBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  /** `send` delivers one batch to the leader and resolves with its answer. */
  constructor(
    private readonly send: (body: Uint8Array, timeoutMs: number) => Promise<Uint8Array>,
    /** A later turn (Runtime.soon). */
    private readonly soon: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  renew(id: bigint, timeoutMs: number): Promise<bigint> {
    return new Promise<bigint>((resolve, reject) => {
      this.pending.push({ id, resolve, reject });
      if (this.pending.length >= forwardBatchMax) this.flush(timeoutMs);
      else if (!this.scheduled) {
        this.scheduled = true;
        this.soon(() => {
          this.scheduled = false;
          this.flush(timeoutMs);
        });
      }
    });
  }

  private flush(timeoutMs: number): void {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, forwardBatchMax);
      this.send(encodeI64s(batch.map((p) => p.id)), timeoutMs).then(
        (answer) => {
          const ttls = decodeI64s(answer);
          if (ttls.length !== batch.length) {
            const err = new Error(`forwarded keepalive batch of ${batch.length} answered with ${ttls.length}`);
            for (const p of batch) p.reject(err);
            return;
          }
          batch.forEach((p, i) => p.resolve(ttls[i] as bigint));
        },
        (err: unknown) => {
          for (const p of batch) p.reject(err);
        },
      );
    }
  }
}

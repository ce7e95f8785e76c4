import { describe, expect, it } from 'vitest';
import { decodeI64s, encodeI64s, forwardBatchMax, KeepAliveBatcher } from '../../../src/server/lease-forward.js';

describe('forwarded keepalive batches', () => {
  it('encode 64-bit ids and TTLs, negative ones included', () => {
    const xs = [0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n), 0x390da20991673807n];
    expect(decodeI64s(encodeI64s(xs))).toEqual(xs);
  });

  it('sends the renewals of one turn as one request and answers each in order', async () => {
    const sent: bigint[][] = [];
    const b = new KeepAliveBatcher(async (body) => {
      const ids = decodeI64s(body);
      sent.push(ids);
      return encodeI64s(ids.map((id) => id * 10n));
    });
    const answers = await Promise.all([1n, 2n, 3n].map((id) => b.renew(id, 1000)));
    expect(answers).toEqual([10n, 20n, 30n]);
    expect(sent).toEqual([[1n, 2n, 3n]]);
    const many = await Promise.all(Array.from({ length: forwardBatchMax + 5 }, (_, i) => b.renew(BigInt(i), 1000)));
    expect(many[forwardBatchMax + 4]).toBe(BigInt(forwardBatchMax + 4) * 10n);
    expect(sent.slice(1).map((x) => x.length)).toEqual([forwardBatchMax, 5]);
  });

  it('fails every renewal of a batch whose request fails or whose answer has the wrong count', async () => {
    const failing = new KeepAliveBatcher(() => Promise.reject(new Error('leader unreachable')));
    await expect(Promise.all([failing.renew(1n, 10), failing.renew(2n, 10)])).rejects.toThrow('leader unreachable');
    const short = new KeepAliveBatcher(async () => encodeI64s([5n]));
    const rs = await Promise.allSettled([short.renew(1n, 10), short.renew(2n, 10)]);
    expect(rs.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

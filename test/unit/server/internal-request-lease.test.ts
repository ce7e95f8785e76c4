import { describe, expect, it } from 'vitest';
import { decodeInternal, encodeInternal, RequestKind } from '../../../src/server/internal-request.js';

describe('internal requests of the lease service', () => {
  it('round-trip grant (negative and 64-bit ids), revoke and a batch of checkpoints', () => {
    const g = decodeInternal(encodeInternal({ kind: RequestKind.LeaseGrant, id: 5n, req: { TTL: 9_000_000_000n, ID: -(1n << 63n) } }));
    expect(g).toEqual({ kind: RequestKind.LeaseGrant, id: 5n, req: { TTL: 9_000_000_000n, ID: -(1n << 63n) } });
    const r = decodeInternal(encodeInternal({ kind: RequestKind.LeaseRevoke, id: 6n, req: { ID: 0x7fffffffffffffffn } }));
    expect(r).toEqual({ kind: RequestKind.LeaseRevoke, id: 6n, req: { ID: 0x7fffffffffffffffn } });
    const checkpoints = Array.from({ length: 1000 }, (_, i) => ({ ID: BigInt(i + 1), remaining_TTL: BigInt(i % 7) }));
    const c = decodeInternal(encodeInternal({ kind: RequestKind.LeaseCheckpoint, id: 7n, req: { checkpoints } }));
    expect(c).toEqual({ kind: RequestKind.LeaseCheckpoint, id: 7n, req: { checkpoints } });
  });
});

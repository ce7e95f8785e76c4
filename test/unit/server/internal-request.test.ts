import { describe, expect, it } from 'vitest';
import { decodeInternal, encodeInternal, RequestKind } from '../../../src/server/internal-request.js';
import type { TxnRequest } from '../../../src/api/kv-types.js';

describe('internal requests (Raft entry payloads)', () => {
  it('round-trips a txn keeping exactly the chosen member of each oneof', () => {
    const req: TxnRequest = {
      compare: [
        { result: 0, target: 3, key: Buffer.from('k'), target_union: 'value', value: Buffer.from('v'), range_end: Buffer.alloc(0) },
        { result: 1, target: 2, key: Buffer.from('k'), target_union: 'mod_revision', mod_revision: 7n, range_end: Buffer.alloc(0) },
      ],
      success: [
        {
          request: 'request_put',
          request_put: { key: Buffer.from('a'), value: Buffer.from('b'), lease: 0n, prev_kv: true, ignore_value: false, ignore_lease: false },
        },
      ],
      failure: [],
    };
    const back = decodeInternal(encodeInternal({ kind: RequestKind.Txn, id: 0xfedcba9876543210n, req }));
    expect(back.kind).toBe(RequestKind.Txn);
    expect(back.id).toBe(0xfedcba9876543210n);
    const t = back.req as TxnRequest;
    expect(t.compare.map((c) => c.target_union)).toEqual(['value', 'mod_revision']);
    expect(t.compare[0]?.value?.toString()).toBe('v');
    expect(t.compare[1]?.mod_revision).toBe(7n);
    expect(t.success[0]?.request).toBe('request_put');
    expect(t.success[0]?.request_put?.prev_kv).toBe(true);
  });

  it('round-trips a MemberUpdate (member id over 2^63, new peer URLs)', () => {
    const back = decodeInternal(encodeInternal({ kind: RequestKind.MemberUpdate, id: 9n, req: { memberId: 0xfedcba9876543210n, peerURLs: ['http://a:1', 'http://b:2'] } }));
    expect(back).toEqual({ kind: RequestKind.MemberUpdate, id: 9n, req: { memberId: 0xfedcba9876543210n, peerURLs: ['http://a:1', 'http://b:2'] } });
  });
});

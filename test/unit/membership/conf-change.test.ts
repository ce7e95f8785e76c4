import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/api/errors.js';
import { decodeContext, encodeContext, validateConfChange } from '../../../src/membership/conf-change.js';

const conf = { voters: [1n, 2n, 3n], learners: [9n] };

describe('conf change validation against the Raft configuration (etcd ValidateConfigurationChange)', () => {
  it('adding an id already in the configuration fails with "member ID already exist"', () => {
    expect(validateConfChange('add-voter', 2n, conf)).toBe(Errors.MemberExist);
    expect(validateConfChange('add-voter', 9n, conf)).toBe(Errors.MemberExist);
    expect(validateConfChange('add-learner', 1n, conf)).toBe(Errors.MemberExist);
    expect(validateConfChange('add-voter', 4n, conf)).toBeUndefined();
  });

  it('a second learner is refused (at most one, as etcd 3.4/3.5)', () => {
    expect(validateConfChange('add-learner', 4n, conf)).toBe(Errors.TooManyLearners);
    expect(validateConfChange('add-learner', 4n, { voters: [1n], learners: [] })).toBeUndefined();
  });

  it('promote needs a learner: unknown id → member not found, voter → can only promote a learner', () => {
    expect(validateConfChange('promote', 9n, conf)).toBeUndefined();
    expect(validateConfChange('promote', 1n, conf)).toBe(Errors.MemberNotLearner);
    expect(validateConfChange('promote', 7n, conf)).toBe(Errors.MemberNotFound);
  });

  it('remove needs a member, and never removes the last voter', () => {
    expect(validateConfChange('remove', 7n, conf)).toBe(Errors.MemberNotFound);
    expect(validateConfChange('remove', 2n, conf)).toBeUndefined();
    expect(validateConfChange('remove', 9n, conf)).toBeUndefined();
    expect(validateConfChange('remove', 1n, { voters: [1n], learners: [9n] })).toBe(Errors.MemberNotEnoughStarted);
  });

  it('the entry context round-trips 64-bit ids; bootstrap entries have none', () => {
    const member = { id: 0xfedcba9876543210n, name: '', peerURLs: ['http://a:1'], clientURLs: [], isLearner: true };
    expect(decodeContext(encodeContext({ reqId: 0xffffffffffffffffn, member }))).toEqual({ reqId: 0xffffffffffffffffn, member });
    expect(decodeContext(encodeContext({ reqId: 5n, promote: true }))).toEqual({ reqId: 5n, promote: true });
    expect(decodeContext(new Uint8Array(0))).toBeUndefined();
  });
});

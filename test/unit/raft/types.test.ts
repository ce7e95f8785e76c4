/** Wire-level helpers of the Raft types. */
import { describe, expect, it } from 'vitest';
import { ConfChangeType, decodeConfChange, encodeConfChange, isLocalMessage, message, MessageType } from '../../../src/raft/types.js';

describe('raft types', () => {
  it('a conf change survives encode/decode, including a 64-bit node id and its context', () => {
    const cc = { type: ConfChangeType.AddLearnerNode, nodeId: (1n << 64n) - 2n, context: new Uint8Array([1, 2, 3]) };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });

  it('a malformed conf change is a programmer error', () => {
    expect(() => decodeConfChange(new Uint8Array(3))).toThrow('too short');
    expect(() => decodeConfChange(new Uint8Array(9).fill(9))).toThrow('unknown conf change type');
  });

  it('local message types are never accepted from the network', () => {
    expect(isLocalMessage(MessageType.Hup)).toBe(true);
    expect(isLocalMessage(MessageType.CheckQuorum)).toBe(true);
    expect(isLocalMessage(MessageType.App)).toBe(false);
    expect(message({ type: MessageType.App }).entries).toEqual([]);
  });
});

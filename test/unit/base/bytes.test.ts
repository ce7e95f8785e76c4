import { describe, expect, it } from 'vitest';
import { compareBytes, prefixEnd } from '../../../src/base/bytes.js';

describe('prefixEnd (etcd GetPrefixRangeEnd)', () => {
  it('increments the last byte below 0xff and drops what follows', () => {
    expect(Buffer.from(prefixEnd(Buffer.from('abc'))).toString()).toBe('abd');
    expect([...prefixEnd(Uint8Array.of(0x61, 0xff))]).toEqual([0x62]);
    expect([...prefixEnd(Uint8Array.of(0xff, 0xff))]).toEqual([0]);
  });
  it('never modifies the key it is given (Buffer#slice would share memory)', () => {
    const key = Buffer.from('k');
    prefixEnd(key);
    expect(key.toString()).toBe('k');
  });
  it('orders bytes unsigned, shorter first on a common prefix', () => {
    expect(compareBytes(Uint8Array.of(0x7f), Uint8Array.of(0x80))).toBe(-1);
    expect(compareBytes(Buffer.from('a'), Buffer.from('ab'))).toBe(-1);
    expect(compareBytes(Buffer.from('b'), Buffer.from('ab'))).toBe(1);
  });
});

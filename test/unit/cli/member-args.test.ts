import { describe, expect, it } from 'vitest';
import { hex16Spaces, parseHexId } from '../../../src/cli/commands/member.js';

describe('member command arguments and formatting (etcdctl 3.4.23)', () => {
  it("parses ids as Go's strconv.ParseUint(s, 16, 64)", () => {
    expect(parseHexId('ffffffffffffffff')).toBe(0xffffffffffffffffn);
    expect(parseHexId('1234')).toBe(0x1234n);
    expect(() => parseHexId('zz')).toThrow('strconv.ParseUint: parsing "zz": invalid syntax');
    expect(() => parseHexId('0x12')).toThrow('strconv.ParseUint: parsing "0x12": invalid syntax');
    expect(() => parseHexId('10000000000000000')).toThrow('strconv.ParseUint: parsing "10000000000000000": value out of range');
  });
  it('prints ids as %16x (space padded)', () => {
    expect(hex16Spaces(0x1234n)).toBe('            1234');
    expect(hex16Spaces(0xb71f75320dc06a6cn)).toBe('b71f75320dc06a6c');
  });
});

/** Go formatting helpers: %q, encoding/json strings, durations, go-humanize sizes. */
import { describe, expect, it } from 'vitest';
import { goDuration, goJsonString, goQuote, hexEscape, humanizeBytes, parseGoDuration } from '../../../src/cli/go-format.js';

const b = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('goQuote (strconv.Quote)', () => {
  it('escapes as Go does', () => {
    expect(goQuote(Buffer.from('a"b\\c\n\t\x07\x7f'))).toBe('"a\\"b\\\\c\\n\\t\\a\\x7f"');
    expect(goQuote(Buffer.from([0xff, 0x41, 0xc3]))).toBe('"\\xffA\\xc3"');
    expect(goQuote(Buffer.from('é\u00a0\u200b😀'))).toBe(`"${b('é')}\\u00a0\\u200b${b('😀')}"`);
  });
});

describe('goJsonString (encoding/json, go1.19)', () => {
  it('escapes HTML characters and controls like Go, keeps UTF-8, replaces invalid bytes', () => {
    expect(goJsonString('<a&b>')).toBe('"\\u003ca\\u0026b\\u003e"');
    expect(goJsonString('\b\f\n\x01')).toBe('"\\u0008\\u000c\\n\\u0001"');
    expect(goJsonString(Buffer.from([0x61, 0xff]))).toBe('"a\\ufffd"');
    expect(goJsonString('\u2028é')).toBe(`"\\u2028${b('é')}"`);
  });
});

describe('durations', () => {
  it('parses Go durations', () => {
    expect(parseGoDuration('2s')).toBe(2_000_000_000n);
    expect(parseGoDuration('1m30.5s')).toBe(90_500_000_000n);
    expect(parseGoDuration('1.5h')).toBe(5_400_000_000_000n);
    expect(parseGoDuration('300ms')).toBe(300_000_000n);
    expect(parseGoDuration('0')).toBe(0n);
    expect(() => parseGoDuration('1')).toThrow('time: missing unit in duration "1"');
    expect(() => parseGoDuration('1x')).toThrow('time: unknown unit "x" in duration "1x"');
    expect(() => parseGoDuration('')).toThrow('time: invalid duration ""');
  });
  it('prints time.Duration.String()', () => {
    expect(goDuration(1_754_670n)).toBe('1.75467ms');
    expect(goDuration(1_000_619_915n)).toBe('1.000619915s');
    expect(goDuration(999n)).toBe('999ns');
    expect(goDuration(1500n)).toBe('1.5µs');
    expect(goDuration(90_000_000_000n)).toBe('1m30s');
    expect(goDuration(3_600_000_000_000n)).toBe('1h0m0s');
    expect(goDuration(0n)).toBe('0s');
  });
});

describe('humanizeBytes (go-humanize SI)', () => {
  it('matches etcdctl endpoint status sizes', () => {
    expect(humanizeBytes(24576n)).toBe('25 kB');
    expect(humanizeBytes(20480n)).toBe('20 kB');
    expect(humanizeBytes(9n)).toBe('9 B');
    expect(humanizeBytes(1_234_567n)).toBe('1.2 MB');
  });
});

it('hexEscape is etcdctl --hex', () => {
  expect(hexEscape(Buffer.from('ab'))).toBe('\\x61\\x62');
});

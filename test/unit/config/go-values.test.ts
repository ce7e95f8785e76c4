import { describe, expect, it } from 'vitest';
import { parseGoBool, parseGoDurationNs, parseGoInt, parseGoUint, ValueError } from '../../../src/config/go-values.js';

const reason = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof ValueError) return e.message;
    throw e;
  }
  return 'no error';
};

describe('values parsed as Go parses them', () => {
  it('reads booleans as strconv.ParseBool', () => {
    for (const t of ['1', 't', 'T', 'true', 'TRUE', 'True']) expect(parseGoBool(t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) expect(parseGoBool(f)).toBe(false);
    expect(reason(() => parseGoBool('yes'))).toBe('parse error');
    expect(reason(() => parseGoBool('tRuE'))).toBe('parse error');
  });

  it('reads integers with base 0', () => {
    expect(parseGoUint('0')).toBe(0n);
    expect(parseGoUint('123')).toBe(123n);
    expect(parseGoUint('0x1F')).toBe(31n);
    expect(parseGoUint('0o17')).toBe(15n);
    expect(parseGoUint('017')).toBe(15n);
    expect(parseGoUint('0b101')).toBe(5n);
    expect(parseGoUint('1_000_000')).toBe(1_000_000n);
    expect(parseGoUint('0x_ff')).toBe(255n);
    expect(parseGoUint('18446744073709551615')).toBe(2n ** 64n - 1n);
    for (const bad of ['', '-1', '+1', '1__0', '_1', '1_', '08', '0x', '1.5', ' 1', 'abc']) expect(reason(() => parseGoUint(bad))).toBe('parse error');
    expect(reason(() => parseGoUint('18446744073709551616'))).toBe('value out of range');
    expect(parseGoInt('-5')).toBe(-5n);
    expect(parseGoInt('+5')).toBe(5n);
    expect(parseGoInt('-0x10')).toBe(-16n);
    expect(reason(() => parseGoInt('9223372036854775808'))).toBe('value out of range');
    expect(parseGoInt('-9223372036854775808')).toBe(-(2n ** 63n));
  });

  it('reads durations as time.ParseDuration', () => {
    expect(parseGoDurationNs('0')).toBe(0);
    expect(parseGoDurationNs('300ms')).toBe(300e6);
    expect(parseGoDurationNs('1.5h')).toBe(5400e9);
    expect(parseGoDurationNs('2h45m')).toBe((2 * 3600 + 45 * 60) * 1e9);
    expect(parseGoDurationNs('-1s')).toBe(-1e9);
    expect(parseGoDurationNs('.5s')).toBe(0.5e9);
    expect(parseGoDurationNs('1µs')).toBe(1000);
    expect(parseGoDurationNs('1us')).toBe(1000);
    expect(parseGoDurationNs('10ns')).toBe(10);
    expect(reason(() => parseGoDurationNs('xyz'))).toBe('time: invalid duration "xyz"');
    expect(reason(() => parseGoDurationNs('5'))).toBe('time: missing unit in duration "5"');
    expect(reason(() => parseGoDurationNs('5x'))).toBe('time: unknown unit "x" in duration "5x"');
    expect(reason(() => parseGoDurationNs(''))).toBe('time: invalid duration ""');
    expect(reason(() => parseGoDurationNs('.s'))).toBe('time: invalid duration ".s"');
  });
});

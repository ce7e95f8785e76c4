/** pflag's parsing rules and messages (texts as etcdctl 3.4.23 prints them). */
import { describe, expect, it } from 'vitest';
import { FlagSet, parseGoBool, parseGoInt } from '../../../src/cli/flags.js';
import { CliExit } from '../../../src/cli/output.js';

const specs = () =>
  new FlagSet([
    { name: 'prefix', kind: 'bool', def: 'false', usage: '' },
    { name: 'limit', kind: 'int64', def: '0', usage: '' },
    { name: 'write-out', short: 'w', kind: 'string', def: 'simple', usage: '' },
    { name: 'interactive', short: 'i', kind: 'bool', def: 'false', usage: '' },
    { name: 'endpoints', kind: 'stringSlice', def: '[127.0.0.1:2379]', usage: '' },
    { name: 'dial-timeout', kind: 'duration', def: '2s', usage: '' },
  ]);

function err(argv: string[]): string {
  try {
    specs().parse(argv);
  } catch (e) {
    if (e instanceof CliExit) return `${e.code}:${e.message}`;
    throw e;
  }
  return 'ok';
}

describe('FlagSet.parse', () => {
  it('takes flags anywhere, `--` ends them, a boolean never takes the next word', () => {
    const f = specs();
    expect(f.parse(['a', '--prefix', 'false', '--limit', '3', '-wjson', '--', '--limit'])).toEqual(['a', 'false', '--limit']);
    expect(f.bool('prefix')).toBe(true);
    expect(f.int('limit')).toBe(3n);
    expect(f.str('write-out')).toBe('json');
  });

  it('reads -w=json, -w json, combined short booleans, =values and defaults', () => {
    const f = specs();
    f.parse(['-iw=table', '--prefix=false', '--dial-timeout=1m30s']);
    expect([f.bool('interactive'), f.str('write-out'), f.bool('prefix'), f.ms('dial-timeout')]).toEqual([true, 'table', false, 90_000]);
    expect(f.list('endpoints')).toEqual(['127.0.0.1:2379']);
    expect(f.changed('endpoints')).toBe(false);
  });

  it('endpoints as a CSV list; repeated flags append', () => {
    const f = specs();
    f.parse(['--endpoints=a:1,b:2', '--endpoints', 'c:3']);
    expect(f.list('endpoints')).toEqual(['a:1', 'b:2', 'c:3']);
  });

  it("prints pflag's messages (usage follows)", () => {
    expect(err(['--bogus'])).toBe('1:unknown flag: --bogus');
    expect(err(['-x'])).toBe("1:unknown shorthand flag: 'x' in -x");
    expect(err(['-w'])).toBe("1:flag needs an argument: 'w' in -w");
    expect(err(['--limit'])).toBe('1:flag needs an argument: --limit');
    expect(err(['--limit', 'abc'])).toBe('1:invalid argument "abc" for "--limit" flag: strconv.ParseInt: parsing "abc": invalid syntax');
    expect(err(['--limit', '99999999999999999999'])).toBe(
      '1:invalid argument "99999999999999999999" for "--limit" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range',
    );
    expect(err(['--prefix=x'])).toBe('1:invalid argument "x" for "--prefix" flag: strconv.ParseBool: parsing "x": invalid syntax');
    expect(err(['--dial-timeout=abc'])).toBe('1:invalid argument "abc" for "--dial-timeout" flag: time: invalid duration "abc"');
    expect(err(['--dial-timeout=1'])).toBe('1:invalid argument "1" for "--dial-timeout" flag: time: missing unit in duration "1"');
  });
});

describe('Go number parsing', () => {
  it('ParseInt base 0 and ParseBool', () => {
    expect(parseGoInt('0x10')).toBe(16n);
    expect(parseGoInt('010')).toBe(8n);
    expect(parseGoInt('-9223372036854775808')).toBe(-(1n << 63n));
    expect(() => parseGoInt('9223372036854775808')).toThrow('value out of range');
    expect(parseGoBool('T')).toBe(true);
    expect(() => parseGoBool('yes')).toThrow('strconv.ParseBool: parsing "yes": invalid syntax');
  });
});

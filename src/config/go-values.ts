/**
 * Values as Go parses them, because etcd's flags are Go `flag` values: booleans as
 * strconv.ParseBool, integers as strconv.ParseUint/ParseInt with base 0 (so "0x10", "0o17",
 * "017" and "1_000" are accepted, as etcd accepts them), durations as time.ParseDuration.
 * A parser throws ValueError with the reason Go gives; the caller wraps it in etcd's sentence
 * ("invalid value "x" for flag -f: <reason>" on the command line, "... for ETCD_F: ..." from the
 * environment).
 */
export class ValueError extends Error {
  override name = 'ValueError';
}

/** Go's flag package reports every strconv failure as one of these two reasons. */
export const parseErrorReason = 'parse error';
export const rangeErrorReason = 'value out of range';

const trueWords = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const falseWords = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

export function parseGoBool(v: string): boolean {
  if (trueWords.has(v)) return true;
  if (falseWords.has(v)) return false;
  throw new ValueError(parseErrorReason);
}

/**
 * strconv.ParseUint/ParseInt with base 0: an optional sign (signed only), then a decimal, 0x/0o/0b
 * prefixed or leading-0 octal literal; '_' only between digits or after a base prefix.
 * Returns undefined for a syntax error; the caller decides the message.
 */
function parseGoIntegerLiteral(s: string, signed: boolean): bigint | undefined {
  let body = s;
  let negative = false;
  if (signed && (body.startsWith('-') || body.startsWith('+'))) {
    negative = body.startsWith('-');
    body = body.slice(1);
  }
  if (body === '') return undefined;
  let prefix = '';
  let digits = body;
  let digitRe = /^[0-9]$/;
  if (/^0[xX]/.test(body)) {
    prefix = '0x';
    digits = body.slice(2);
    digitRe = /^[0-9a-fA-F]$/;
  } else if (/^0[oO]/.test(body)) {
    prefix = '0o';
    digits = body.slice(2);
    digitRe = /^[0-7]$/;
  } else if (/^0[bB]/.test(body)) {
    prefix = '0b';
    digits = body.slice(2);
    digitRe = /^[01]$/;
  } else if (body.length > 1 && body.startsWith('0')) {
    prefix = '0o';
    digits = body.slice(1);
    digitRe = /^[0-7]$/;
  }
  // Underscores: allowed after a base prefix or between digits, never doubled or trailing.
  const leadingUnderscoreOk = prefix !== '';
  let prevUnderscore = !leadingUnderscoreOk;
  let sawDigit = false;
  let clean = '';
  for (let i = 0; i < digits.length; i++) {
    const c = digits[i] as string;
    if (c === '_') {
      if (prevUnderscore) return undefined;
      if (prefix === '' && !sawDigit) return undefined;
      prevUnderscore = true;
      continue;
    }
    if (!digitRe.test(c)) return undefined;
    clean += c;
    sawDigit = true;
    prevUnderscore = false;
  }
  // "0x" alone is a syntax error; so is a trailing underscore.
  if (!sawDigit || prevUnderscore) return undefined;
  const magnitude = BigInt(prefix === '' ? clean : prefix + clean);
  return negative ? -magnitude : magnitude;
}

/** An unsigned integer of `bits` bits, as Go's uint/uint64 flags (uint is 64 bits on amd64). */
export function parseGoUint(v: string, bits: 32 | 64 = 64): bigint {
  const n = parseGoIntegerLiteral(v, false);
  if (n === undefined) throw new ValueError(parseErrorReason);
  if (n >= 1n << BigInt(bits)) throw new ValueError(rangeErrorReason);
  return n;
}

/** A signed integer of `bits` bits, as Go's int/int64 flags. */
export function parseGoInt(v: string, bits: 32 | 64 = 64): bigint {
  const n = parseGoIntegerLiteral(v, true);
  if (n === undefined) throw new ValueError(parseErrorReason);
  const limit = 1n << BigInt(bits - 1);
  if (n >= limit || n < -limit) throw new ValueError(rangeErrorReason);
  return n;
}

const durationUnitNs: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign
  'μs': 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const maxDurationNs = 9_223_372_036_854_775_807;

/**
 * time.ParseDuration, returning nanoseconds: "300ms", "-1.5h", "2h45m", "0". The reasons are
 * Go's (`time: invalid duration "x"`, `time: missing unit in duration "5"`,
 * `time: unknown unit "x" in duration "5x"`), which etcd prints verbatim for
 * --auto-compaction-retention.
 */
export function parseGoDurationNs(v: string): number {
  const quoted = JSON.stringify(v);
  const invalid = (): ValueError => new ValueError(`time: invalid duration ${quoted}`);
  let s = v;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  while (s !== '') {
    const num = /^([0-9]*)(?:\.([0-9]*))?/.exec(s);
    const whole = num?.[1] ?? '';
    const frac = num?.[2];
    if (whole === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(num?.[0].length ?? 0);
    const unitMatch = /^[^0-9.]*/.exec(s);
    const unit = unitMatch?.[0] ?? '';
    if (unit === '') throw new ValueError(`time: missing unit in duration ${quoted}`);
    const scale = durationUnitNs[unit];
    if (scale === undefined) throw new ValueError(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    s = s.slice(unit.length);
    total += Number(`${whole === '' ? '0' : whole}.${frac ?? ''}0`) * scale;
    if (total > maxDurationNs) throw invalid();
  }
  return negative ? -total : total;
}

/** A Go duration flag value in milliseconds (fractions kept); Go's flag reports "parse error". */
export function parseGoDurationMs(v: string): number {
  try {
    return parseGoDurationNs(v) / 1e6;
  } catch (e) {
    if (e instanceof ValueError) throw new ValueError(parseErrorReason);
    throw e;
  }
}

/**
 * The JSON of etcd's gRPC gateway (grpc-gateway v1 with golang/protobuf jsonpb, as etcd 3.4
 * configures it: original proto field names, defaults left out), for any message of proto/:
 *
 * Out (`messageToJson`): proto field names in declaration order; 64-bit integers as decimal
 * strings; bytes as standard base64; enums by name; zero scalars, empty bytes and empty
 * repeated fields left out, a present sub-message kept even when empty (`{}`), a chosen oneof
 * member kept even when zero.
 *
 * In (`parseJson` + `jsonToMessage`): Go's encoding/json syntax errors word for word (clients
 * see them as the error text), only the first JSON value of the body is read (json.Decoder);
 * a field by its proto name or its lowerCamelCase JSON name; unknown fields ignored; null is
 * the default; 64-bit integers as numbers or strings holding a number; bytes as standard
 * base64 with Go's error positions; enums by name or number. Number literals are kept as their
 * text, so 64-bit values are exact. Errors are JsonError (the gateway answers them with code 3,
 * or 2 for a stream's requests, as etcd does).
 */
import type protobuf from 'protobufjs';
import { decodeGeneric, encodeGeneric } from '../api/generic-codec.js';
import { protoRoot } from '../api/descriptor.js';

export class JsonError extends Error {
  override name = 'JsonError';
}

/** A parsed JSON value; numbers keep their literal text. */
export type JsonValue = null | boolean | string | { num: string } | JsonValue[] | { obj: Map<string, JsonValue> };

/** Go's quoteChar for scanner errors. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

/**
 * Parses the first JSON value of `text` (Go json.Decoder.Decode). `null` for an empty body
 * (io.EOF). Throws JsonError with Go's message.
 */
export function parseJson(text: string): { value: JsonValue; rest: string } | null {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (what: string): never => {
    if (i >= n) throw new JsonError('unexpected EOF');
    throw new JsonError(`invalid character ${quoteChar(text[i] as string)} ${what}`);
  };
  const literal = (word: string): void => {
    for (let k = 1; k < word.length; k++) {
      i++;
      if (i >= n) throw new JsonError('unexpected EOF');
      if (text[i] !== word[k]) throw new JsonError(`invalid character ${quoteChar(text[i] as string)} in literal ${word} (expecting ${quoteChar(word[k] as string)})`);
    }
    i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    for (;;) {
      if (i >= n) throw new JsonError('unexpected EOF');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) throw new JsonError(`invalid character ${quoteChar(text[i] as string)} in string literal`);
      if (c === 0x5c) {
        i++;
        if (i >= n) throw new JsonError('unexpected EOF');
        const e = text[i] as string;
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= n) throw new JsonError('unexpected EOF');
            if (!/[0-9a-fA-F]/.test(text[i] as string)) throw new JsonError(`invalid character ${quoteChar(text[i] as string)} in \\u hexadecimal character escape`);
          }
        } else if (!'"\\/bfnrt'.includes(e)) throw new JsonError(`invalid character ${quoteChar(e)} in string escape code`);
      }
      i++;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const num = (): { num: string } => {
    const start = i;
    if (text[i] === '-') i++;
    if (i >= n) throw new JsonError('unexpected EOF');
    if (text[i] === '0') i++;
    else if (/[1-9]/.test(text[i] as string)) while (i < n && /[0-9]/.test(text[i] as string)) i++;
    else fail('in numeric literal');
    if (text[i] === '.') {
      i++;
      if (i >= n) throw new JsonError('unexpected EOF');
      if (!/[0-9]/.test(text[i] as string)) fail('after decimal point in numeric literal');
      while (i < n && /[0-9]/.test(text[i] as string)) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (i >= n) throw new JsonError('unexpected EOF');
      if (!/[0-9]/.test(text[i] as string)) fail('in exponent of numeric literal');
      while (i < n && /[0-9]/.test(text[i] as string)) i++;
    }
    return { num: text.slice(start, i) };
  };
  const value = (): JsonValue => {
    ws();
    if (i >= n) throw new JsonError('unexpected EOF');
    const c = text[i] as string;
    if (c === '{') {
      i++;
      const obj = new Map<string, JsonValue>();
      ws();
      if (text[i] === '}') {
        i++;
        return { obj };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('looking for beginning of object key string');
        const k = str();
        ws();
        if (text[i] !== ':') fail('after object key');
        i++;
        obj.set(k, value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { obj };
        }
        fail('after object key:value pair');
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('after array element');
      }
    }
    if (c === '"') return str();
    if (c === 't') return literal('true'), true;
    if (c === 'f') return literal('false'), false;
    if (c === 'n') return literal('null'), null;
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    return fail('looking for beginning of value');
  };
  ws();
  if (i >= n) return null;
  const v = value();
  return { value: v, rest: text.slice(i) };
}

// ---- base64 as Go's encoding/base64 StdEncoding ----

const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const b64Index = new Map([...b64].map((c, k) => [c, k]));

/** StdEncoding.Decode: padding required; \r and \n skipped; errors at Go's byte offsets. */
export function goBase64Decode(s: string): Buffer {
  const out: number[] = [];
  const bad = (at: number): never => {
    throw new JsonError(`illegal base64 data at input byte ${at}`);
  };
  const nl = (c: string | undefined): boolean => c === '\n' || c === '\r';
  let si = 0;
  for (;;) {
    const q: number[] = [];
    let last = false;
    while (q.length < 4) {
      if (si === s.length) {
        if (q.length === 0) return Buffer.from(out);
        return bad(si - q.length);
      }
      const c = s[si] as string;
      si++;
      const v = b64Index.get(c);
      if (v !== undefined) {
        q.push(v);
        continue;
      }
      if (nl(c)) continue;
      if (c !== '=') return bad(si - 1);
      if (q.length < 2) return bad(si - 1);
      if (q.length === 2) {
        while (si < s.length && nl(s[si])) si++;
        if (si === s.length) return bad(s.length);
        if (s[si] !== '=') return bad(si - 1);
        si++;
      }
      while (si < s.length && nl(s[si])) si++;
      if (si < s.length) return bad(si);
      last = true;
      break;
    }
    const [a = 0, b = 0, c = 0, d = 0] = q;
    const word = (a << 18) | (b << 12) | (c << 6) | d;
    out.push((word >> 16) & 0xff);
    if (q.length > 2) out.push((word >> 8) & 0xff);
    if (q.length > 3) out.push(word & 0xff);
    if (last) return Buffer.from(out);
  }
}

// ---- jsonpb ----

const int64Types = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const int32Types = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

function lookup(name: string): protobuf.Type {
  return protoRoot.lookupType(name.startsWith('.') ? name.slice(1) : name);
}

function resolved(f: protobuf.Field): protobuf.Type | protobuf.Enum | null {
  f.resolve();
  return (f.resolvedType as protobuf.Type | protobuf.Enum | null) ?? null;
}

function isEnum(t: unknown): t is protobuf.Enum {
  return !!t && typeof t === 'object' && 'values' in t && !('fieldsArray' in t);
}

/** Go's name of a generated enum type: package, then the nesting joined by '_'. */
function goEnumName(e: protobuf.Enum): string {
  const parts = [e.name];
  let cur = e.parent;
  while (cur && 'fieldsArray' in cur) {
    parts.unshift(cur.name);
    cur = cur.parent;
  }
  const pkg = cur ? cur.fullName.replace(/^\./, '') : '';
  return pkg === '' ? parts.join('_') : `${pkg}.${parts.join('_')}`;
}

function jsonKind(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  if ('num' in v) return 'number';
  return 'object';
}

function goTypeOf(f: protobuf.Field): string {
  if (f.type === 'bytes') return '[]uint8';
  if (int64Types.has(f.type)) return f.type.startsWith('u') || f.type === 'fixed64' ? 'uint64' : 'int64';
  if (int32Types.has(f.type)) return f.type.startsWith('u') || f.type === 'fixed32' ? 'uint32' : 'int32';
  return f.type;
}

function cannot(v: JsonValue, goType: string): JsonError {
  const k = jsonKind(v);
  return new JsonError(`json: cannot unmarshal ${k} into Go value of type ${goType}`);
}

/** An integer literal checked against the Go type's range (json.Unmarshal into intN/uintN). */
function integer(lit: string, f: protobuf.Field, asNumber: boolean): string {
  const goType = goTypeOf(f);
  if (!/^-?(0|[1-9][0-9]*)$/.test(lit)) throw new JsonError(`json: cannot unmarshal number ${lit} into Go value of type ${goType}`);
  const v = BigInt(lit);
  const bits = goType.endsWith('64') ? 64n : 32n;
  const unsigned = goType.startsWith('u');
  const min = unsigned ? 0n : -(1n << (bits - 1n));
  const max = unsigned ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
  if (v < min || v > max) throw new JsonError(`json: cannot unmarshal number ${lit} into Go value of type ${goType}`);
  return asNumber ? lit : v.toString();
}

function scalar(f: protobuf.Field, v: JsonValue): unknown {
  const t = resolved(f);
  if (isEnum(t)) {
    if (typeof v === 'string') {
      const n = t.values[v];
      if (n === undefined) throw new JsonError(`unknown value ${JSON.stringify(v)} for enum ${goEnumName(t)}`);
      return n;
    }
    if (v !== null && typeof v === 'object' && 'num' in v) return Number(integer(v.num, { ...f, type: 'int32' } as protobuf.Field, true));
    throw cannot(v, goEnumName(t));
  }
  if (f.type === 'bytes') {
    if (typeof v !== 'string') throw cannot(v, '[]uint8');
    return goBase64Decode(v);
  }
  if (f.type === 'string') {
    if (typeof v !== 'string') throw cannot(v, 'string');
    return v;
  }
  if (f.type === 'bool') {
    if (typeof v !== 'boolean') throw cannot(v, 'bool');
    return v;
  }
  if (int64Types.has(f.type) || int32Types.has(f.type)) {
    // jsonpb: a quoted integer is unquoted and read as a JSON number.
    let lit: string;
    if (typeof v === 'string') {
      const inner = parseJson(v);
      if (inner === null) throw new JsonError('unexpected end of JSON input');
      if (inner.rest.trim() !== '') throw new JsonError(`invalid character ${quoteChar(inner.rest.trim()[0] as string)} after top-level value`);
      if (inner.value === null || typeof inner.value !== 'object' || !('num' in inner.value)) throw cannot(inner.value, goTypeOf(f));
      lit = inner.value.num;
    } else if (v !== null && typeof v === 'object' && 'num' in v) lit = v.num;
    else throw cannot(v, goTypeOf(f));
    const s = integer(lit, f, false);
    return int64Types.has(f.type) ? s : Number(s);
  }
  if (f.type === 'double' || f.type === 'float') {
    if (v !== null && typeof v === 'object' && 'num' in v) return Number(v.num);
    throw cannot(v, f.type === 'double' ? 'float64' : 'float32');
  }
  throw new JsonError(`unsupported field type ${f.type}`);
}

function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** A JSON object → a proto-loader-shaped object of `type` (see generic-codec.ts). */
function toObject(type: protobuf.Type, v: JsonValue): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || !('obj' in v)) throw cannot(v, 'map[string]json.RawMessage');
  const src = v.obj;
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    let raw: JsonValue | undefined = src.get(f.name);
    if (raw === undefined) raw = src.get(lowerCamel(f.name));
    if (raw === undefined || raw === null) continue;
    const t = resolved(f);
    const one = (x: JsonValue): unknown => (t && !isEnum(t) ? toObject(t as protobuf.Type, x) : scalar(f, x));
    if (f.repeated) {
      if (!Array.isArray(raw)) throw cannot(raw, '[]json.RawMessage');
      out[f.name] = raw.map(one);
    } else out[f.name] = one(raw);
  }
  return out;
}

/** The request body of a gateway call → encoded message of `typeName` (empty body: empty message). */
export function jsonToMessage(typeName: string, body: JsonValue | null): Uint8Array {
  if (body === null) return encodeGeneric(typeName, {});
  return encodeGeneric(typeName, toObject(lookup(typeName), body));
}

function isZero(f: protobuf.Field, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (f.repeated) return (v as unknown[]).length === 0;
  const t = resolved(f);
  if (t && !isEnum(t)) return false;
  if (f.type === 'bytes') return (v as Uint8Array).length === 0;
  if (f.type === 'string') return v === '';
  if (f.type === 'bool') return v === false;
  return String(v) === '0';
}

function jsonScalar(f: protobuf.Field, v: unknown): string {
  const t = resolved(f);
  if (isEnum(t)) {
    const name = t.valuesById[v as number];
    return name === undefined ? String(v) : JSON.stringify(name);
  }
  if (f.type === 'bytes') return JSON.stringify(Buffer.from(v as Uint8Array).toString('base64'));
  if (int64Types.has(f.type)) return JSON.stringify(String(v));
  if (f.type === 'string') return goJsonString(v as string);
  return String(v);
}

/** Go's encoding/json string escaping: \n \r \t by name, other controls and <, >, &, U+2028/9 as \u00XX. */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

function objToJson(type: protobuf.Type, obj: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const f of type.fieldsArray) {
    const v = obj[f.name];
    const chosen = f.partOf ? obj[f.partOf.name] === f.name && v !== undefined && v !== null : false;
    if (!chosen && isZero(f, v)) continue;
    const t = resolved(f);
    const one = (x: unknown): string => (t && !isEnum(t) ? objToJson(t as protobuf.Type, x as Record<string, unknown>) : jsonScalar(f, x));
    parts.push(`${JSON.stringify(f.name)}:${f.repeated ? `[${(v as unknown[]).map(one).join(',')}]` : one(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** An encoded message of `typeName` → the gateway's JSON text. */
export function messageToJson(typeName: string, bytes: Uint8Array): string {
  return objToJson(lookup(typeName), decodeGeneric(typeName, bytes));
}

/**
 * etcdctl's -w json: Go's encoding/json of the gogo-generated response structs. Field names are
 * the proto names (json tags), zero values omitted (omitempty), 64-bit integers as bare numbers
 * (exact: built from the decimal strings, never through a JS number), bytes as base64, enums as
 * numbers, and a oneof as {"<Oneof>":{"<Field>":...}} in Go's CamelCase. Fields that etcdctl
 * 3.4 does not know (3.6 additions) are left out, since it prints only what it decodes.
 */
import type protobuf from 'protobufjs';
import { protoRoot } from '../api/proto.js';
import { goJsonString } from './go-format.js';

const numericTypes = new Set([
  'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'double', 'float',
]);

/** Fields newer than etcdctl 3.4.23's structs. */
const unknownTo34 = new Set([
  'etcdserverpb.StatusResponse.storageVersion',
  'etcdserverpb.StatusResponse.dbSizeQuota',
  'etcdserverpb.StatusResponse.downgradeInfo',
  'etcdserverpb.HashKVResponse.hash_revision',
  'etcdserverpb.SnapshotResponse.version',
]);

function camel(s: string): string {
  return s
    .split('_')
    .map((p) => (p.length > 0 ? (p[0] as string).toUpperCase() + p.slice(1) : p))
    .join('');
}

type Obj = Record<string, unknown>;

function isZero(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'string') return v === '' || v === '0';
  if (typeof v === 'number') return v === 0;
  if (typeof v === 'boolean') return !v;
  if (Buffer.isBuffer(v)) return v.length === 0;
  if (Array.isArray(v)) return v.length === 0;
  return false;
}

function scalar(f: protobuf.Field, v: unknown): string {
  if (f.type === 'bytes') return JSON.stringify((v as Buffer).toString('base64'));
  if (f.type === 'string') return goJsonString(String(v));
  if (f.type === 'bool') return v ? 'true' : 'false';
  if (numericTypes.has(f.type)) return String(v);
  return String(v); // enums: numbers
}

export function goJson(typeName: string, obj: Obj): string {
  return encodeMessage(protoRoot.lookupType(typeName), obj);
}

function encodeMessage(type: protobuf.Type, obj: Obj): string {
  const parts: string[] = [];
  const doneOneofs = new Set<string>();
  for (const f of type.fieldsArray) {
    f.resolve();
    if (unknownTo34.has(`${type.fullName.slice(1)}.${f.name}`)) continue;
    if (f.partOf) {
      const o = f.partOf.name;
      if (doneOneofs.has(o)) continue;
      doneOneofs.add(o);
      const chosen = obj[o] as string | undefined;
      if (!chosen) continue;
      const cf = type.fields[chosen] as protobuf.Field;
      cf.resolve();
      const v = obj[chosen];
      if (v === undefined || v === null) continue;
      const inner = cf.resolvedType && 'fieldsArray' in cf.resolvedType ? encodeMessage(cf.resolvedType, v as Obj) : scalar(cf, v);
      parts.push(`"${camel(o)}":{"${camel(chosen)}":${inner}}`);
      continue;
    }
    const v = obj[f.name];
    if (isZero(v)) continue;
    const sub = f.resolvedType && 'fieldsArray' in f.resolvedType ? f.resolvedType : null;
    let text: string;
    if (f.repeated) {
      text = `[${(v as unknown[]).map((x) => (sub ? encodeMessage(sub, x as Obj) : scalar(f, x))).join(',')}]`;
    } else {
      text = sub ? encodeMessage(sub, v as Obj) : scalar(f, v);
    }
    parts.push(`${JSON.stringify(f.name)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

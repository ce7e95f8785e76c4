/**
 * etcdctl's `-w json` and `-w protobuf` of a response message.
 *
 * json is Go's encoding/json of the gogo-generated structs: fields in declaration order, named by
 * their json tags (= the proto names), zero values omitted (omitempty), 64-bit integers as bare
 * numbers written from their decimal strings (exact above 2^53), bytes base64, enums as numbers,
 * and a oneof as {"<Oneof>":{"<Field>":...}} in Go's CamelCase (the oneof interface field and
 * its wrapper struct have no json tags, so Go uses the field names). Fields that etcdctl 3.4.23's
 * structs do not have (3.5/3.6 additions) are left out: it prints only what it decodes.
 *
 * protobuf is the marshalled message without default-valued fields, as gogo writes it.
 */
import type protobuf from 'protobufjs';
import { protoRoot } from '../api/descriptor.js';
import { isZeroField, pruneDefaults } from '../client/wire.js';
import { binBytes, goJsonString } from './go-format.js';

/** Fields newer than etcdctl 3.4.23's structs. */
const unknownTo34 = new Set([
  'etcdserverpb.StatusResponse.storageVersion',
  'etcdserverpb.StatusResponse.dbSizeQuota',
  'etcdserverpb.StatusResponse.downgradeInfo',
  'etcdserverpb.HashKVResponse.hash_revision',
  'etcdserverpb.SnapshotResponse.version',
  'etcdserverpb.MemberListRequest.linearizable',
]);

const numericTypes = new Set([
  'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'double', 'float',
]);

type Obj = Record<string, unknown>;

function camel(s: string): string {
  return s
    .split('_')
    .map((p) => (p.length > 0 ? (p[0] as string).toUpperCase() + p.slice(1) : p))
    .join('');
}

function messageType(f: protobuf.Field): protobuf.Type | null {
  f.resolve();
  const t = f.resolvedType;
  return t && 'fieldsArray' in t ? (t as protobuf.Type) : null;
}

function known(type: protobuf.Type, f: protobuf.Field): boolean {
  return !unknownTo34.has(`${type.fullName.slice(1)}.${f.name}`);
}

function scalar(f: protobuf.Field, v: unknown): string {
  if (f.type === 'bytes') return `"${Buffer.from(v as Uint8Array).toString('base64')}"`;
  if (f.type === 'string') return goJsonString(String(v));
  if (f.type === 'bool') return v ? 'true' : 'false';
  if (numericTypes.has(f.type)) return String(v);
  return String(v); // enums (loaded as numbers)
}

/** JSON text (binary string) of a wire message (proto-loader object) of the given type. */
export function goJson(typeName: string, obj: Obj): string {
  return encodeMessage(protoRoot.lookupType(typeName), obj);
}

function encodeValue(f: protobuf.Field, v: unknown): string {
  const sub = messageType(f);
  if (f.repeated) return `[${(v as unknown[]).map((x) => (sub ? encodeMessage(sub, x as Obj) : scalar(f, x))).join(',')}]`;
  return sub ? encodeMessage(sub, v as Obj) : scalar(f, v);
}

function encodeMessage(type: protobuf.Type, obj: Obj): string {
  const parts: string[] = [];
  const oneofsDone = new Set<string>();
  for (const f of type.fieldsArray) {
    if (!known(type, f)) continue;
    if (f.partOf) {
      const o = f.partOf.name;
      if (oneofsDone.has(o)) continue;
      oneofsDone.add(o);
      const chosen = obj[o];
      const cf = typeof chosen === 'string' ? type.fields[chosen] : undefined;
      const v = cf ? obj[cf.name] : undefined;
      if (!cf || v === undefined || v === null) {
        parts.push(`"${camel(o)}":null`);
        continue;
      }
      parts.push(`"${camel(o)}":{"${camel(cf.name)}":${encodeValue(cf, v)}}`);
      continue;
    }
    const v = obj[f.name];
    if (isZeroField(f, v)) continue;
    parts.push(`"${f.name}":${encodeValue(f, v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** `-w protobuf`: the marshalled message as a binary string. */
export function goProtobuf(typeName: string, obj: Obj): string {
  const type = protoRoot.lookupType(typeName);
  const msg = type.fromObject(pruneDefaults(type, obj, known));
  return binBytes(type.encode(msg).finish());
}

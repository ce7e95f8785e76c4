/**
 * Wire objects without default values. Go's proto3 marshal leaves out zero scalars and empty
 * bytes, and etcd reads a present-but-empty `range_end` differently from an absent one (as a
 * range to the end of the keyspace), so requests must not carry them. proto-loader's serializer
 * writes every field present in the object, hence this pruning before each call.
 */
import type protobuf from 'protobufjs';
import { protoRoot } from '../api/descriptor.js';

type Obj = Record<string, unknown>;

function messageType(f: protobuf.Field): protobuf.Type | null {
  f.resolve();
  const t = f.resolvedType;
  return t && 'fieldsArray' in t ? (t as protobuf.Type) : null;
}

/** Go's zero value of the field's type (judged by type: the string "0" is not zero). */
export function isZeroField(f: protobuf.Field, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (f.repeated) return (v as unknown[]).length === 0;
  if (messageType(f)) return false;
  if (f.type === 'bytes') return (v as Uint8Array).length === 0;
  if (f.type === 'string') return v === '';
  if (f.type === 'bool') return v === false;
  return String(v) === '0';
}

/**
 * A copy of `obj` (a wire object of `type`) without default-valued fields; a oneof keeps only its
 * chosen member (even when that member is empty). `keep(type, field)` can drop further fields.
 */
export function pruneDefaults(type: protobuf.Type, obj: Obj, keep: (t: protobuf.Type, f: protobuf.Field) => boolean = () => true): Obj {
  const out: Obj = {};
  for (const f of type.fieldsArray) {
    if (!keep(type, f)) continue;
    const v = obj[f.name];
    if (f.partOf) {
      if (obj[f.partOf.name] !== f.name || v === undefined || v === null) continue;
      out[f.partOf.name] = f.name;
    } else if (isZeroField(f, v)) continue;
    const sub = messageType(f);
    if (sub) out[f.name] = f.repeated ? (v as Obj[]).map((x) => pruneDefaults(sub, x, keep)) : pruneDefaults(sub, v as Obj, keep);
    else out[f.name] = v;
  }
  return out;
}

export function pruneWire(typeName: string, obj: Obj): Obj {
  return pruneDefaults(protoRoot.lookupType(typeName), obj);
}

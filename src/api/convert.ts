/**
 * Conversion at the wire edge between proto-loader objects (64-bit integers as decimal strings)
 * and our domain objects (bigint), driven by the message descriptors so one function serves
 * every message. Field names are the proto names on both sides.
 */
import type protobuf from 'protobufjs';
import { protoRoot } from './descriptor.js';

const int64Types = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

interface FieldPlan {
  name: string;
  kind: 'int64' | 'message' | 'bytes' | 'plain';
  repeated: boolean;
  type?: string;
  /** The oneof this field belongs to: only the selected member is present. */
  oneof?: string;
}

interface TypePlan {
  fields: FieldPlan[];
  oneofs: string[];
}

const plans = new Map<string, TypePlan>();

function planFor(type: protobuf.Type): TypePlan {
  const key = type.fullName;
  let plan = plans.get(key);
  if (plan) return plan;
  const fields: FieldPlan[] = type.fieldsArray.map((f): FieldPlan => {
    f.resolve();
    const plan = fieldPlan(f);
    return f.partOf ? { ...plan, oneof: f.partOf.name } : plan;
  });
  plan = { fields, oneofs: type.oneofsArray.map((o) => o.name) };
  plans.set(key, plan);
  return plan;
}

function fieldPlan(f: protobuf.Field): FieldPlan {
  {
    const repeated = f.repeated;
    if (int64Types.has(f.type)) return { name: f.name, kind: 'int64', repeated };
    if (f.type === 'bytes') return { name: f.name, kind: 'bytes', repeated };
    if (f.resolvedType && 'fieldsArray' in f.resolvedType) {
      return { name: f.name, kind: 'message', repeated, type: f.resolvedType.fullName };
    }
    return { name: f.name, kind: 'plain', repeated };
  }
}

function lookup(typeName: string): protobuf.Type {
  return protoRoot.lookupType(typeName.startsWith('.') ? typeName.slice(1) : typeName);
}

type Obj = Record<string, unknown>;

/** Wire object (from proto-loader) → domain object with bigint. */
export function toDomain<T>(typeName: string, wire: unknown): T {
  return convert(lookup(typeName), wire as Obj, true) as T;
}

/** Domain object → wire object (bigint → string; null messages omitted). */
export function toWire(typeName: string, domain: unknown): Obj {
  return convert(lookup(typeName), domain as Obj, false);
}

function convert(type: protobuf.Type, src: Obj, inbound: boolean): Obj {
  const plan = planFor(type);
  const out: Obj = {};
  for (const f of plan.fields) {
    const v = src[f.name];
    if (f.oneof !== undefined && src[f.oneof] !== f.name) continue;
    if (v === undefined || v === null) {
      if (inbound) {
        if (f.repeated) out[f.name] = [];
        else if (f.kind === 'int64') out[f.name] = 0n;
        else if (f.kind === 'bytes' && v === undefined) out[f.name] = Buffer.alloc(0);
        else if (f.kind === 'message') out[f.name] = null;
        else if (v === null) out[f.name] = null;
      }
      continue;
    }
    if (f.kind === 'int64') {
      const c: (x: unknown) => unknown = inbound ? (x) => BigInt(x as string) : (x) => String(x);
      out[f.name] = f.repeated ? (v as unknown[]).map(c) : c(v);
    } else if (f.kind === 'bytes') {
      const c = (x: unknown): Buffer => (Buffer.isBuffer(x) ? x : Buffer.from(x as Uint8Array));
      out[f.name] = inbound ? (f.repeated ? (v as unknown[]).map(c) : c(v)) : v;
    } else if (f.kind === 'message') {
      const sub = lookup(f.type as string);
      out[f.name] = f.repeated ? (v as Obj[]).map((x) => convert(sub, x, inbound)) : convert(sub, v as Obj, inbound);
    } else {
      out[f.name] = v;
    }
  }
  for (const o of plan.oneofs) if (src[o] !== undefined) out[o] = src[o];
  return out;
}

/**
 * Encoding and decoding of any message of our proto/ files through protobufjs, in the object
 * shape @grpc/proto-loader gives (proto field names, 64-bit integers as decimal strings, enums as
 * numbers, bytes as Buffer, defaults filled, oneofs named by a virtual field): the services that
 * are not on the hot path convert these objects with convert.ts. Hot methods have hand-written
 * codecs instead (api/codec/).
 */
import type protobuf from 'protobufjs';
import { loaderOptions, protoRoot } from './descriptor.js';

const types = new Map<string, protobuf.Type>();

function type(name: string): protobuf.Type {
  let t = types.get(name);
  if (t === undefined) {
    t = protoRoot.lookupType(name.startsWith('.') ? name.slice(1) : name);
    types.set(name, t);
  }
  return t;
}

const toObjectOptions: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  bytes: Buffer as unknown as protobuf.IConversionOptions['bytes'],
  defaults: loaderOptions.defaults,
  oneofs: loaderOptions.oneofs,
};

/** Wire bytes → proto-loader-shaped object (throws protobufjs's error on malformed input). */
export function decodeGeneric(typeName: string, bytes: Uint8Array): Record<string, unknown> {
  const t = type(typeName);
  return t.toObject(t.decode(bytes), toObjectOptions);
}

/** proto-loader-shaped object → wire bytes. */
export function encodeGeneric(typeName: string, obj: unknown): Uint8Array {
  const t = type(typeName);
  return t.encode(t.fromObject(obj as Record<string, unknown>)).finish();
}

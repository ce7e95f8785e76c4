/**
 * The client's generic codec path: any request and response of our proto/ files through
 * protobufjs (api/generic-codec.ts), with convert.ts between wire objects and domain objects.
 * client.ts loads it on first use (dynamic import), so commands that need only the KV calls'
 * hand codecs (api/kv-wire-client.ts) start without protobufjs (issue 13).
 */
import { toDomain, toWire } from '../api/convert.js';
import { decodeGeneric, encodeGeneric } from '../api/generic-codec.js';
import type { WireMessage } from './types.js';
import { pruneWire } from './wire.js';

/** A domain request (bigint) → its bytes, without default-valued fields (wire.ts). */
export function encodeRequest(typeName: string, req: unknown): Uint8Array {
  return encodeGeneric(typeName, pruneWire(typeName, toWire(typeName, req)));
}

/** Response bytes → the wire object (int64 as decimal strings) and the domain object (bigint). */
export function decodeResponse<T>(typeName: string, bytes: Uint8Array): { raw: WireMessage; resp: T } {
  const raw = decodeGeneric(typeName, bytes) as WireMessage;
  return { raw, resp: toDomain<T>(typeName, raw) };
}

/** A wire object (a stream's message, decoded by grpc-js) → the domain object. */
export { toDomain };

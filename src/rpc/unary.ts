/**
 * Services on the gRPC server (h2/grpc-server.ts). A method is either a raw MethodDef (encoded
 * protobuf in and out: the hot methods and the streams) or an `unary(run)`, which takes and
 * returns proto-loader-shaped objects (api/generic-codec.ts) — bindService gives it the
 * method's request and response types from the proto files. Errors thrown by either become
 * statuses in one place (grpc-status.ts).
 */
import { decodeGeneric, encodeGeneric } from '../api/generic-codec.js';
import { allServiceMethods } from '../api/descriptor.js';
import { EtcdError, GrpcCode, GrpcError } from '../api/errors.js';
import type { CallContext, MethodDef } from './h2/grpc-server.js';

export interface ObjUnary {
  kind: 'obj-unary';
  run: (wire: Record<string, unknown>, ctx: CallContext) => Promise<unknown>;
}

export type ServiceImpl = Record<string, ObjUnary | MethodDef>;

/** A unary method over proto-loader-shaped objects. */
export function unary(run: (wire: Record<string, unknown>, ctx: CallContext) => Promise<unknown>): ObjUnary {
  return { kind: 'obj-unary', run };
}

const methodTypes = new Map<string, { req: string; resp: string }>();
const serviceMethods = new Map<string, string[]>();
for (const m of allServiceMethods()) {
  methodTypes.set(`${m.service}/${m.method}`, { req: m.requestType, resp: m.responseType });
  const list = serviceMethods.get(m.service) ?? [];
  list.push(m.method);
  serviceMethods.set(m.service, list);
}

/** Every method of `service` (full name, e.g. etcdserverpb.KV): implemented, or null (UNIMPLEMENTED). */
export function bindService(service: string, impl: ServiceImpl): Record<string, MethodDef | null> {
  const names = serviceMethods.get(service);
  if (names === undefined) throw new Error(`unknown service ${service}`);
  const out: Record<string, MethodDef | null> = {};
  for (const name of Object.keys(impl)) if (!names.includes(name)) throw new Error(`${service} has no method ${name}`);
  for (const name of names) {
    const m = impl[name];
    if (m === undefined) out[name] = null;
    else if (m.kind === 'obj-unary') {
      const t = methodTypes.get(`${service}/${name}`) as { req: string; resp: string };
      out[name] = {
        kind: 'unary',
        handler: async (bytes, ctx) => encodeGeneric(t.resp, await m.run(decodeRequest(t.req, bytes), ctx)),
      };
    } else out[name] = m;
  }
  return out;
}

/** Decodes a request; malformed bytes are the client's error (grpc-go: Internal, "grpc: error unmarshalling request"). */
export function decodeRequest(type: string, bytes: Uint8Array): Record<string, unknown> {
  try {
    return decodeGeneric(type, bytes);
  } catch (e) {
    if (e instanceof EtcdError) throw e;
    throw new GrpcError(GrpcCode.Internal, `grpc: error unmarshalling request: ${e instanceof Error ? e.message : String(e)}`);
  }
}

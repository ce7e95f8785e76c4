/**
 * etcd's wire contract as a protobufjs Root, built from the generated JSON descriptor
 * (descriptor.gen.ts, from proto/) — no .proto parsing and no gRPC library at load, so the
 * server and ctl start fast. proto.ts adds the grpc-js client constructors on top of it.
 *
 * Object shape conventions (loaderOptions): proto field names kept (keepCase), 64-bit integers
 * as decimal strings (converted to bigint at the edge, see convert.ts), enums as numbers, bytes
 * as Buffer, defaults filled in, oneofs named by a virtual field holding the case name.
 */
import protobuf from 'protobufjs';
import { descriptor } from './descriptor.gen.js';

export const loaderOptions = {
  keepCase: true,
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
} as const;

export const protoRoot: protobuf.Root = (() => {
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  root.resolveAll();
  return root;
})();

export interface ServiceMethodInfo {
  /** Full service name, e.g. etcdserverpb.KV */
  service: string;
  method: string;
  /** gRPC path, e.g. /etcdserverpb.KV/Range */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  /** Full message names, e.g. etcdserverpb.RangeRequest */
  requestType: string;
  responseType: string;
}

function services(ns: protobuf.NamespaceBase, out: protobuf.Service[]): protobuf.Service[] {
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Service) out.push(o);
    else if (o instanceof protobuf.Namespace) services(o, out);
  }
  return out;
}

const methods: ServiceMethodInfo[] = services(protoRoot, []).flatMap((s) => {
  const service = s.fullName.slice(1);
  return s.methodsArray.map((m) => {
    m.resolve();
    return {
      service,
      method: m.name,
      path: `/${service}/${m.name}`,
      requestStream: !!m.requestStream,
      responseStream: !!m.responseStream,
      requestType: (m.resolvedRequestType as protobuf.Type).fullName.slice(1),
      responseType: (m.resolvedResponseType as protobuf.Type).fullName.slice(1),
    };
  });
});

export function allServiceMethods(): ServiceMethodInfo[] {
  return methods;
}

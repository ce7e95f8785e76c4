/**
 * Loads etcd's wire contract from proto/ once: grpc-js service definitions and client
 * constructors (through @grpc/proto-loader), and a protobufjs Root for direct encoding (the
 * server encodes internal Raft log entries with it).
 *
 * proto-loader options: proto field names kept (keepCase), 64-bit integers as decimal strings
 * (converted to bigint at the edge, see convert.ts), enums as numbers, bytes as Buffer, defaults
 * filled in, oneofs named by a virtual field holding the case name.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** src/api/proto.ts and dist/api/proto.js both sit two levels below the package root. */
export const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');

export const protoFiles = [
  'etcdserverpb/rpc.proto',
  'mvccpb/kv.proto',
  'authpb/auth.proto',
  'v3electionpb/v3election.proto',
  'v3lockpb/v3lock.proto',
  'grpc/health/v1/health.proto',
];

export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [protoDir],
};

export const packageDefinition = protoLoader.loadSync(protoFiles, loaderOptions);
export const grpcObject = grpc.loadPackageDefinition(packageDefinition);

function serviceClient(pkgPath: string): grpc.ServiceClientConstructor {
  let cur: unknown = grpcObject;
  for (const part of pkgPath.split('.')) {
    cur = (cur as Record<string, unknown>)[part];
    if (cur === undefined) throw new Error(`proto service ${pkgPath} not found`);
  }
  return cur as grpc.ServiceClientConstructor;
}

export const KVClient = serviceClient('etcdserverpb.KV');
export const WatchClient = serviceClient('etcdserverpb.Watch');
export const LeaseClient = serviceClient('etcdserverpb.Lease');
export const ClusterClient = serviceClient('etcdserverpb.Cluster');
export const MaintenanceClient = serviceClient('etcdserverpb.Maintenance');
export const AuthClient = serviceClient('etcdserverpb.Auth');
export const ElectionClient = serviceClient('v3electionpb.Election');
export const LockClient = serviceClient('v3lockpb.Lock');
export const HealthClient = serviceClient('grpc.health.v1.Health');

export const kvService = KVClient.service;
export const watchService = WatchClient.service;
export const leaseService = LeaseClient.service;
export const clusterService = ClusterClient.service;
export const maintenanceService = MaintenanceClient.service;
export const authService = AuthClient.service;
export const electionService = ElectionClient.service;
export const lockService = LockClient.service;
export const healthService = HealthClient.service;

/** protobufjs view of the same files, for direct encode/decode. */
export const protoRoot: protobuf.Root = (() => {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(protoDir, target));
  root.loadSync(protoFiles, { keepCase: true });
  root.resolveAll();
  return root;
})();

export interface ServiceMethodInfo {
  service: string;
  method: string;
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: string;
  responseType: string;
}

export function allServiceMethods(): ServiceMethodInfo[] {
  const out: ServiceMethodInfo[] = [];
  for (const [name, def] of Object.entries(packageDefinition)) {
    if ('format' in def) continue; // message or enum definitions
    for (const [method, m] of Object.entries(def as protoLoader.ServiceDefinition)) {
      out.push({
        service: name,
        method,
        path: m.path,
        requestStream: m.requestStream,
        responseStream: m.responseStream,
        requestType: String((m.requestType.type as { name?: string }).name ?? ''),
        responseType: String((m.responseType.type as { name?: string }).name ?? ''),
      });
    }
  }
  return out;
}

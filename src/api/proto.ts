/**
 * grpc-js service definitions and client constructors for etcd's services (the client side:
 * ctl's client and tests), built from the same generated descriptor as everything else
 * (descriptor.ts) through @grpc/proto-loader's fromJSON — no .proto text is parsed. Importing
 * this module loads grpc-js; code that needs only the message types imports descriptor.ts.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { descriptor } from './descriptor.gen.js';
import { loaderOptions } from './descriptor.js';

export { allServiceMethods, loaderOptions, protoRoot, type ServiceMethodInfo } from './descriptor.js';
export { protoDir, protoFiles } from './proto-files.js';

export const packageDefinition = protoLoader.fromJSON(descriptor as unknown as Parameters<typeof protoLoader.fromJSON>[0], loaderOptions as protoLoader.Options);
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

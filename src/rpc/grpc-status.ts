/**
 * The one place where errors become gRPC statuses. An EtcdError carries etcd's exact code and
 * message; a GrpcError a free-form one; anything else is an internal failure, which etcd's
 * togRPCError turns into Unknown with the error text (v3rpc/util.go) — we log it too.
 */
import * as grpc from '@grpc/grpc-js';
import { EtcdError, GrpcCode, GrpcError } from '../api/errors.js';

export interface StatusLike {
  code: grpc.status;
  details: string;
  metadata?: grpc.Metadata;
}

export function toGrpcStatus(err: unknown, onUnknown?: (err: unknown) => void): StatusLike {
  if (err instanceof EtcdError) return { code: err.code as number as grpc.status, details: err.message };
  if (err instanceof GrpcError) return { code: err.code as number as grpc.status, details: err.message };
  onUnknown?.(err);
  const message = err instanceof Error ? err.message : String(err);
  return { code: GrpcCode.Unknown as number as grpc.status, details: message };
}

export function unimplemented(service: string, method: string): StatusLike {
  return {
    code: grpc.status.UNIMPLEMENTED,
    details: `unknown method ${method} for service ${service}: not implemented in etcdts yet`,
  };
}

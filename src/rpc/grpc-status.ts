/**
 * The one place where errors become gRPC statuses. An EtcdError carries etcd's exact code and
 * message; a GrpcError a free-form one; anything else is an internal failure, which etcd's
 * togRPCError turns into Unknown with the error text (v3rpc/util.go) — we log it too.
 */
import { EtcdError, GrpcCode, GrpcError } from '../api/errors.js';
import type { CallStatus } from './h2/grpc-server.js';

export function toGrpcStatus(err: unknown, onUnknown?: (err: unknown) => void): CallStatus {
  if (err instanceof EtcdError) return { code: err.code as number, details: err.message };
  if (err instanceof GrpcError) return { code: err.code as number, details: err.message };
  onUnknown?.(err);
  const message = err instanceof Error ? err.message : String(err);
  return { code: GrpcCode.Unknown as number, details: message };
}

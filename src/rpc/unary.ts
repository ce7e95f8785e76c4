/** Adapts an async function to a grpc-js unary handler, mapping errors in one place. */
import type * as grpc from '@grpc/grpc-js';
import { toGrpcStatus } from './grpc-status.js';

export type UnaryHandler = grpc.handleUnaryCall<unknown, unknown>;

export function unary(run: (req: unknown, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>, onUnknown: (e: unknown) => void): UnaryHandler {
  return (call, callback) => {
    run(call.request, call).then(
      (resp) => callback(null, resp),
      (err: unknown) => {
        const st = toGrpcStatus(err, onUnknown);
        callback({ code: st.code, details: st.details, name: 'Error', message: st.details }, null);
      },
    );
  };
}

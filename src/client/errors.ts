/**
 * Errors the client raises. A failed call carries the gRPC status code and the server's
 * message. `display` is what etcdctl (clientv3 toErr) shows for it: the bare message for an
 * error of etcd's table, Go's `context deadline exceeded` for a deadline, and otherwise grpc-go's
 * `rpc error: code = X desc = Y`.
 */
import { Errors } from '../api/errors.js';

/** grpc-go's codes.Code.String() names, by number. */
const codeNames = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

export function goCodeName(code: number): string {
  return codeNames[code] ?? `Code(${code})`;
}

/** grpc-go's status error text: `rpc error: code = OutOfRange desc = ...`. */
export function goStatusText(code: number, details: string): string {
  return `rpc error: code = ${goCodeName(code)} desc = ${details}`;
}

const knownMessages: ReadonlySet<string> = new Set(Object.values(Errors).map((s) => s.message));

export const deadlineText = 'context deadline exceeded';

export class ClientError extends Error {
  /** gRPC status code of the failure (4 = DEADLINE_EXCEEDED for a client-side deadline). */
  readonly code: number;
  /** The status message as the server (or the transport) sent it. */
  readonly details: string;
  /** The grpc-go rendering of the failure, as clientv3's retry interceptor logs it. */
  readonly statusText: string;

  constructor(code: number, details: string, opts: { statusText?: string; display?: string } = {}) {
    super(opts.display ?? displayText(code, details));
    this.name = 'ClientError';
    this.code = code;
    this.details = details;
    this.statusText = opts.statusText ?? goStatusText(code, details);
  }

  /** The client's own deadline (the command timeout) passed: Go's context error. */
  static deadline(statusText: string): ClientError {
    return new ClientError(4, deadlineText, { statusText, display: deadlineText });
  }
}

function displayText(code: number, details: string): string {
  if (knownMessages.has(details)) return details;
  return goStatusText(code, details);
}

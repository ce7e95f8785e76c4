/**
 * Every error a client can see, with etcd's exact message and gRPC status code
 * (api/v3rpc/rpctypes/error.go, v3.5). Clients match on the message text (clientv3
 * errStringToError, npm etcd3 errors.ts), so the text must be byte-exact.
 *
 * Code throws `new EtcdError(Errors.X)`; the rpc layer maps an EtcdError to a gRPC status in one
 * place, and anything else to UNKNOWN (logged). Code narrows with `instanceof EtcdError` and
 * compares `err.spec === Errors.X`, never the message text.
 */

/** gRPC status codes (numbers as in grpc's codes.proto). */
export const enum GrpcCode {
  OK = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

export interface ErrorSpec {
  readonly code: GrpcCode;
  readonly message: string;
}

function spec(code: GrpcCode, message: string): ErrorSpec {
  return Object.freeze({ code, message });
}

const C = {
  InvalidArgument: GrpcCode.InvalidArgument,
  OutOfRange: GrpcCode.OutOfRange,
  ResourceExhausted: GrpcCode.ResourceExhausted,
  NotFound: GrpcCode.NotFound,
  FailedPrecondition: GrpcCode.FailedPrecondition,
  Canceled: GrpcCode.Canceled,
  PermissionDenied: GrpcCode.PermissionDenied,
  Unauthenticated: GrpcCode.Unauthenticated,
  Unavailable: GrpcCode.Unavailable,
  DataLoss: GrpcCode.DataLoss,
  DeadlineExceeded: GrpcCode.DeadlineExceeded,
} as const;

export const Errors = {
  EmptyKey: spec(C.InvalidArgument, 'etcdserver: key is not provided'),
  KeyNotFound: spec(C.InvalidArgument, 'etcdserver: key not found'),
  ValueProvided: spec(C.InvalidArgument, 'etcdserver: value is provided'),
  LeaseProvided: spec(C.InvalidArgument, 'etcdserver: lease is provided'),
  TooManyOps: spec(C.InvalidArgument, 'etcdserver: too many operations in txn request'),
  DuplicateKey: spec(C.InvalidArgument, 'etcdserver: duplicate key given in txn request'),
  InvalidSortOption: spec(C.InvalidArgument, 'etcdserver: invalid sort option'),
  Compacted: spec(C.OutOfRange, 'etcdserver: mvcc: required revision has been compacted'),
  FutureRev: spec(C.OutOfRange, 'etcdserver: mvcc: required revision is a future revision'),
  NoSpace: spec(C.ResourceExhausted, 'etcdserver: mvcc: database space exceeded'),

  LeaseNotFound: spec(C.NotFound, 'etcdserver: requested lease not found'),
  LeaseExist: spec(C.FailedPrecondition, 'etcdserver: lease already exists'),
  LeaseTTLTooLarge: spec(C.OutOfRange, 'etcdserver: too large lease TTL'),

  WatchCanceled: spec(C.Canceled, 'etcdserver: watch canceled'),

  MemberExist: spec(C.FailedPrecondition, 'etcdserver: member ID already exist'),
  PeerURLExist: spec(C.FailedPrecondition, 'etcdserver: Peer URLs already exists'),
  MemberNotEnoughStarted: spec(
    C.FailedPrecondition,
    'etcdserver: re-configuration failed due to not enough started members',
  ),
  MemberBadURLs: spec(C.InvalidArgument, 'etcdserver: given member URLs are invalid'),
  MemberNotFound: spec(C.NotFound, 'etcdserver: member not found'),
  MemberNotLearner: spec(C.FailedPrecondition, 'etcdserver: can only promote a learner member'),
  LearnerNotReady: spec(
    C.FailedPrecondition,
    'etcdserver: can only promote a learner member which is in sync with leader',
  ),
  TooManyLearners: spec(C.FailedPrecondition, 'etcdserver: too many learner members in cluster'),
  ClusterIdMismatch: spec(C.FailedPrecondition, 'etcdserver: cluster ID mismatch'),

  RequestTooLarge: spec(C.InvalidArgument, 'etcdserver: request is too large'),
  TooManyRequests: spec(C.ResourceExhausted, 'etcdserver: too many requests'),

  RootUserNotExist: spec(C.FailedPrecondition, 'etcdserver: root user does not exist'),
  RootRoleNotExist: spec(C.FailedPrecondition, 'etcdserver: root user does not have root role'),
  UserAlreadyExist: spec(C.FailedPrecondition, 'etcdserver: user name already exists'),
  UserEmpty: spec(C.InvalidArgument, 'etcdserver: user name is empty'),
  UserNotFound: spec(C.FailedPrecondition, 'etcdserver: user name not found'),
  RoleAlreadyExist: spec(C.FailedPrecondition, 'etcdserver: role name already exists'),
  RoleNotFound: spec(C.FailedPrecondition, 'etcdserver: role name not found'),
  RoleEmpty: spec(C.InvalidArgument, 'etcdserver: role name is empty'),
  AuthFailed: spec(C.InvalidArgument, 'etcdserver: authentication failed, invalid user ID or password'),
  PermissionNotGiven: spec(C.InvalidArgument, 'etcdserver: permission not given'),
  PermissionDenied: spec(C.PermissionDenied, 'etcdserver: permission denied'),
  RoleNotGranted: spec(C.FailedPrecondition, 'etcdserver: role is not granted to the user'),
  PermissionNotGranted: spec(C.FailedPrecondition, 'etcdserver: permission is not granted to the role'),
  AuthNotEnabled: spec(C.FailedPrecondition, 'etcdserver: authentication is not enabled'),
  InvalidAuthToken: spec(C.Unauthenticated, 'etcdserver: invalid auth token'),
  InvalidAuthMgmt: spec(C.InvalidArgument, 'etcdserver: invalid auth management'),
  AuthOldRevision: spec(C.InvalidArgument, 'etcdserver: revision of auth store is old'),

  NoLeader: spec(C.Unavailable, 'etcdserver: no leader'),
  NotLeader: spec(C.FailedPrecondition, 'etcdserver: not leader'),
  LeaderChanged: spec(C.Unavailable, 'etcdserver: leader changed'),
  NotCapable: spec(C.Unavailable, 'etcdserver: not capable'),
  Stopped: spec(C.Unavailable, 'etcdserver: server stopped'),
  Timeout: spec(C.Unavailable, 'etcdserver: request timed out'),
  TimeoutDueToLeaderFail: spec(
    C.Unavailable,
    'etcdserver: request timed out, possibly due to previous leader failure',
  ),
  TimeoutDueToConnectionLost: spec(
    C.Unavailable,
    'etcdserver: request timed out, possibly due to connection lost',
  ),
  TimeoutWaitAppliedIndex: spec(
    C.Unavailable,
    'etcdserver: request timed out, waiting for the applied index took too long',
  ),
  Unhealthy: spec(C.Unavailable, 'etcdserver: unhealthy cluster'),
  Corrupt: spec(C.DataLoss, 'etcdserver: corrupt cluster'),
  NotSupportedForLearner: spec(C.Unavailable, 'etcdserver: rpc not supported for learner'),
  BadLeaderTransferee: spec(C.FailedPrecondition, 'etcdserver: bad leader transferee'),
  TimeoutLeaderTransfer: spec(C.Unavailable, 'etcdserver: request timed out, leader transfer took too long'),
  RequestCanceled: spec(C.Canceled, 'etcdserver: request canceled'),
  DeadlineExceeded: spec(C.DeadlineExceeded, 'context deadline exceeded'),
} as const;

export type ErrorName = keyof typeof Errors;

/** An operating error a client sees, carrying one entry of the table. */
export class EtcdError extends Error {
  override name = 'EtcdError';
  constructor(readonly spec: ErrorSpec) {
    super(spec.message);
  }
  get code(): GrpcCode {
    return this.spec.code;
  }
}

/** A gRPC-visible error with a free-form message (etcd's plain Go errors become Unknown). */
export class GrpcError extends Error {
  override name = 'GrpcError';
  constructor(
    readonly code: GrpcCode,
    message: string,
  ) {
    super(message);
  }
}

export function etcdError(s: ErrorSpec): EtcdError {
  return new EtcdError(s);
}

/**
 * Texts a client sees as a WatchResponse's cancel_reason (mvcc/watcher.go, watch_stream.go,
 * 3.4.23 LIVE): plain Go errors of the watch stream, not gRPC statuses.
 */
export const WatchCancelReasons = {
  DuplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
  EmptyRange: 'mvcc: watcher range is empty',
} as const;

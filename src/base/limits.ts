/**
 * Named limits with etcd's defaults (server/embed/config.go, v3.5). Units are last in the name.
 * Runtime values come from config; these are the defaults and hard caps.
 */
export const maxTxnOpsDefault = 128;
export const maxRequestBytesDefault = 1_572_864; // 1.5 MiB
/** grpc-go MaxRecvMsgSize = max-request-bytes + this overhead (v3rpc/grpc.go). */
export const grpcOverheadBytes = 512 * 1024;
export const quotaBackendBytesDefault = 2 * 1024 * 1024 * 1024;
export const heartbeatIntervalMsDefault = 100;
export const electionTimeoutMsDefault = 1000;
export const snapshotCountDefault = 100_000;
/** lease.MaxLeaseTTL: 9,000,000,000 seconds. */
export const leaseTtlMaxSeconds = 9_000_000_000n;
/** committed − applied gap above which etcd answers "too many requests". */
export const applyGapMax = 5000;

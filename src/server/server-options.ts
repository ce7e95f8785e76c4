/**
 * ServerOptions: what a member is started with (bin/etcdts maps etcd's flags onto it; the tests
 * and the simulator build it directly). Only bootstrap.ts and the composition root
 * (etcd-server.ts) read it whole; rpc/ sees a few fields through ServerApi.opts.
 *
 * Invariants: every field is read at start-up and never changes while the member runs; an
 * absent optional field means etcd's default, stated beside it.
 */
import type { Logger } from '../base/logger.js';
import type { TlsMaterial } from '../base/tls.js';
import type { Runtime } from '../base/runtime.js';
import type { StorageIo } from '../storage/storage-io.js';
import type { PeerHandler, Transport } from '../peer/transport.js';
import type { Failpoints } from './failpoints.js';
import type { MemberInfo } from './server-api.js';

export interface ServerOptions {
  name: string;
  dataDir: string;
  memberId: bigint;
  clusterId: bigint;
  /** The bootstrap member list (used only when the data dir is new). */
  members: MemberInfo[];
  /** --experimental-corrupt-check-time in ms (0: no periodic corruption check, etcd's default). */
  corruptCheckTimeMs?: number;
  /** --initial-cluster-state: with 'new', a data dir of another cluster is refused. */
  initialClusterState?: 'new' | 'existing';
  /** --initial-cluster-token, recorded in a new data dir. */
  initialClusterToken?: string;
  /** This member's client URLs, published to the cluster once it runs. */
  advertiseClientUrls: string[];
  maxTxnOps: number;
  maxRequestBytes: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  quotaBackendBytes: number;
  /** Applied entries between two Raft snapshots (--snapshot-count). */
  snapshotCount: number;
  /** --backend-batch-interval (ms) and --backend-batch-limit: 0 or absent is etcd's default. */
  backendBatchIntervalMs?: number;
  backendBatchLimit?: number;
  /** Entries kept in the log behind a snapshot for slow followers (--experimental-snapshot-catchup-entries). */
  snapshotCatchupEntries: number;
  preVote: boolean;
  logger: Logger;
  /** Where to serve peer traffic (--listen-peer-urls): the gRPC peer transport listens there. */
  listenPeerUrls?: string[];
  /** Peer TLS (base/tls.ts): https:// peer URLs are served and dialed with it. */
  peerTls?: TlsMaterial | null;
  /** Builds the peer transport instead (tests: an in-memory network). Neither this nor
   *  listenPeerUrls ⇒ a member that talks to nobody. */
  transport?: (args: { memberId: bigint; clusterId: bigint; handler: PeerHandler }) => Transport;
  /** Test hook: armed failpoints (failpoints.ts), each firing in a Ready that carries a client request. */
  failpoints?: Failpoints;
  /**
   * Called once the member cannot go on (its raft loop failed, an apply batch could not be
   * written, an invariant broke), after it stopped serving. bin/etcdts exits non-zero here, as
   * etcd panics, so that a supervisor restarts it; without it the member only stops serving.
   */
  onFatal?: (err: unknown) => void;
  /** --strict-reconfig-check (default true). */
  strictReconfigCheck?: boolean;
  /** Joining an existing cluster (--initial-cluster-state existing): `members` is the list
   *  fetched from its peers, and the Raft core waits for the leader instead of bootstrapping. */
  join?: boolean;
  /** Clocks, timers and randomness (default: Node's); the simulator passes its own. */
  runtime?: Runtime;
  /** The KV engine and the disk of the WAL and snapshot files (default: classic-level and
   *  node:fs); the simulator passes in-memory ones that it can crash mid-write. */
  storage?: StorageIo;
  /** Called once this member was removed from the cluster and has stopped serving. */
  onRemoved?: (reason: string) => void;
  /** Auth (auth-gate.ts): --auth-token-ttl in seconds (default 300), --bcrypt-cost (default 10),
   *  --client-cert-auth (the certificate's CN is the user when no token is sent). */
  authTokenTtlSeconds?: number;
  /** --auth-token: "simple" or "jwt,pub-key=...,priv-key=...,sign-method=...,ttl=...". */
  authToken?: string;
  bcryptCost?: number;
  clientCertAuth?: boolean;
}

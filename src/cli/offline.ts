/**
 * Work ctl does on local files rather than through a server: `snapshot restore` and
 * `defrag --data-dir`. They need the storage and bootstrap code, which cli/ may not import
 * (DESIGN module table), so bin/ctl.ts passes an implementation in (MainOptions.offline).
 */
export interface RestoreRequest {
  snapshotPath: string;
  /** --data-dir, or `<name>.etcd` when empty (etcd's default). */
  dataDir: string;
  name: string;
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string;
  skipHashCheck: boolean;
  /** etcdctl's zap log lines go to stderr. */
  log(msg: string, fields: Record<string, unknown>): void;
}

export interface OfflineTools {
  /** Throws an Error whose message etcdctl prints after `Error: `. */
  restore(r: RestoreRequest): Promise<void>;
  /** Defragments a data dir not in use by a server. */
  defragDataDir(dataDir: string): Promise<void>;
}

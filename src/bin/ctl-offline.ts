/**
 * ctl's local-file tools (cli/offline.ts), built from the server's storage code and the
 * config's bootstrap rules: `snapshot restore` computes the new cluster's ids exactly as a
 * member started with the same --name/--initial-cluster/--initial-cluster-token/
 * --initial-advertise-peer-urls would (config/bootstrap.ts), then writes the data dir
 * (server/snapshot-restore.ts).
 */
import type { OfflineTools } from '../cli/offline.js';

// The config and storage code (classic-level's native addon, the config parser, crypto) loads
// only when a local-file command runs: every other ctl command starts without it (issue 13).
const defragDataDir = async (...a: Parameters<typeof import('../server/maintenance.js').defragDataDir>) => (await import('../server/maintenance.js')).defragDataDir(...a);

export const offlineTools: OfflineTools = {
  async restore(r) {
    const [{ bootstrapMembers }, { parseInitialCluster }, { parseEtcdUrls }, { restoreSnapshot }] = await Promise.all([
      import('../config/bootstrap.js'),
      import('../config/flags.js'),
      import('../config/urls.js'),
      import('../server/snapshot-restore.js'),
    ]);
    const boot = bootstrapMembers({
      name: r.name,
      initialCluster: parseInitialCluster(r.initialCluster),
      initialClusterToken: r.initialClusterToken,
      initialAdvertisePeerUrls: parseEtcdUrls(r.initialAdvertisePeerUrls).map((u) => u.text),
    });
    await restoreSnapshot({
      snapshotPath: r.snapshotPath,
      dataDir: r.dataDir,
      memberId: boot.memberId,
      clusterId: boot.clusterId,
      // As a static bootstrap: names and client URLs come when each member publishes them.
      members: boot.members.map((m) => ({ id: m.id, name: '', peerURLs: m.peerUrls, clientURLs: [], isLearner: false })),
      skipHashCheck: r.skipHashCheck,
      log: r.log,
    });
  },
  defragDataDir,
};

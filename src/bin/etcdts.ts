/** The etcdts server: etcd's flags and ETCD_* variables in, one member serving out. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createLogger, goDuration, outputsWriter } from '../base/logger.js';
import { ConfigError, bootstrapMembers, parseConfig, usage } from '../config/flags.js';
import { EtcdServer, serverVersion } from '../server/etcd-server.js';
import { FailpointError, parseFailpoints } from '../server/failpoints.js';
import { fetchExistingCluster } from '../server/join-existing.js';
import { startClientServer } from '../rpc/client-server.js';
import { startAutoCompactor } from '../server/auto-compactor.js';
import { realClock } from '../base/clock.js';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`etcdts: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const cfg = parsed.config;
  if (cfg.help) {
    process.stdout.write(usage());
    return;
  }
  if (cfg.version) {
    process.stdout.write(`etcdts Version: 0.1.0\netcd API Version: ${serverVersion}\nNode Version: ${process.version}\n`);
    return;
  }
  let failpoints;
  try {
    failpoints = parseFailpoints(process.env);
  } catch (e) {
    if (e instanceof FailpointError) {
      process.stderr.write(`etcdts: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logOut = outputsWriter(cfg.logOutputs);
  const logger = createLogger({ level: cfg.logLevel === 'panic' || cfg.logLevel === 'fatal' ? 'error' : cfg.logLevel, out: logOut.out });
  for (const w of parsed.warnings) logger.warn(w);
  let boot;
  try {
    boot = bootstrapMembers(cfg);
  } catch (e) {
    if (e instanceof ConfigError) {
      logger.error('failed to start etcdts', { error: e.message });
      process.exit(1);
    }
    throw e;
  }
  // --initial-cluster-state existing on a new data dir: ids and members come from the peers.
  const join = cfg.initialClusterState === 'existing' && !existsSync(path.join(cfg.dataDir, 'member'));
  let joined;
  if (join) {
    try {
      joined = await fetchExistingCluster({ name: cfg.name, initialCluster: cfg.initialCluster, logger });
    } catch (e) {
      logger.error('failed to start etcdts', { error: e instanceof Error ? e.message : String(e) });
      process.exit(1);
    }
  }
  let server: EtcdServer;
  let clients: Awaited<ReturnType<typeof startClientServer>> | undefined;
  try {
    server = await EtcdServer.start({
      name: cfg.name,
      dataDir: cfg.dataDir,
      memberId: joined?.memberId ?? boot.memberId,
      clusterId: joined?.clusterId ?? boot.clusterId,
      join,
      strictReconfigCheck: cfg.strictReconfigCheck,
      onRemoved: () => {
        // etcd exits with status 0 once the member was removed.
        void (async () => {
          await clients?.close();
          process.exit(0);
        })();
      },
      members: joined?.members ?? boot.members.map((m) => ({
        id: m.id,
        // etcd: a member's name and client URLs are known once it publishes them through Raft.
        name: '',
        peerURLs: m.peerUrls,
        clientURLs: [],
        isLearner: false,
      })),
      initialClusterState: cfg.initialClusterState,
      corruptCheckTimeMs: cfg.corruptCheckTimeMs,
      initialClusterToken: cfg.initialClusterToken,
      advertiseClientUrls: cfg.advertiseClientUrls,
      maxTxnOps: cfg.maxTxnOps,
      maxRequestBytes: cfg.maxRequestBytes,
      backendBatchIntervalMs: cfg.backendBatchIntervalMs,
      backendBatchLimit: cfg.backendBatchLimit,
      electionTimeoutMs: cfg.electionTimeoutMs,
      heartbeatIntervalMs: cfg.heartbeatIntervalMs,
      quotaBackendBytes: cfg.quotaBackendBytes,
      snapshotCount: cfg.snapshotCount,
      snapshotCatchupEntries: cfg.snapshotCatchupEntries,
      preVote: cfg.preVote,
      logger,
      listenPeerUrls: cfg.listenPeerUrls.map((u) => `${u.protocol}//${u.host}`),
      failpoints,
      onFatal: (err) => {
        // As etcd panics: the member cannot go on, so it ends here (status 2, as a Go panic's),
        // and a supervisor restarts it; the restarted member replays its WAL and catches up.
        logger.error('member cannot go on; exiting', { error: err instanceof Error ? err.message : String(err) });
        process.exit(2);
      },
    });
  } catch (e) {
    logger.error('failed to start etcdts', { error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  }
  clients = await startClientServer(server, cfg.listenClientUrls, logger, {
    watchProgressNotifyIntervalMs: cfg.watchProgressNotifyIntervalMs,
    metrics: cfg.metrics,
    metricsUrls: cfg.listenMetricsUrls,
    maxConcurrentStreams: cfg.maxConcurrentStreams,
    enableGateway: cfg.enableGrpcGateway,
    ui: cfg.ui,
  });
  logger.info('ready to serve client requests', { name: cfg.name, 'data-dir': cfg.dataDir });
  if (cfg.ui) logger.info('serving the web console', { urls: cfg.advertiseClientUrls.map((u) => `${u}/ui/`) });
  logger.debug('flags set', { flags: cfg.explicit.join(',') });
  if (cfg.corruptCheckTimeMs > 0) {
    // etcd logs this when its periodic corruption check starts (server/corrupt.go).
    logger.info('enabled corruption checking', { 'local-member-id': server.memberId.toString(16), interval: goDuration(cfg.corruptCheckTimeMs) });
  }
  // Test hook: the revision compactor's 5-minute step, shortened (as ETCDTS_FAILPOINTS, tests only).
  const revisionStepMs = Number(process.env.ETCDTS_TEST_REVISION_COMPACTION_INTERVAL_MS ?? '') || undefined;
  const compactor = startAutoCompactor(
    cfg.autoCompactionMode === 'revision'
      ? { mode: 'revision', retention: cfg.autoCompactionRevisions, intervalMs: revisionStepMs }
      : { mode: 'periodic', periodMs: cfg.autoCompactionPeriodMs },
    {
      rev: () => server.kv.rev(),
      compact: async (revision) => void (await server.compact({ revision, physical: false })),
      isLeader: () => server.isLeader(),
      logger,
      clock: realClock,
      schedule: (fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref();
        return () => clearTimeout(t);
      },
    },
  );
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('received signal; shutting down', { signal });
    void (async () => {
      compactor?.stop();
      await clients?.close();
      await server.stop();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();

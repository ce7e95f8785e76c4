/** The etcdts server: etcd's flags and ETCD_* variables in, one member serving out. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createLogger, goDuration, outputsWriter } from '../base/logger.js';
import { loadTls, TlsSetupError, type TlsMaterial } from '../base/tls.js';
import { ConfigError, bootstrapMembers, parseConfig, usage } from '../config/flags.js';
import { EtcdServer, serverVersion } from '../server/etcd-server.js';
import { FailpointError, parseFailpoints } from '../server/failpoints.js';
import { fetchExistingCluster } from '../server/join-existing.js';
import { startClientServer } from '../rpc/client-server.js';
import { startAutoCompactor } from '../server/auto-compactor.js';
import { realClock } from '../base/clock.js';
import { SdNotifyError, sdNotify, sdNotifyReady } from '../base/sd-notify.js';

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
  // TLS material of both sides (files read, auto-TLS certificates made) before anything listens.
  let clientTls: TlsMaterial | null;
  let peerTls: TlsMaterial | null;
  try {
    const common = {
      selfSignedValidityYears: cfg.selfSignedCertValidityYears,
      cipherSuites: cfg.cipherSuites,
      minVersion: cfg.tlsMinVersion,
      maxVersion: cfg.tlsMaxVersion,
      warn: (msg: string) => logger.warn(msg),
    };
    const hosts = (us: URL[]): string[] => [...new Set(us.map((u) => u.hostname.replace(/^\[|\]$/g, '')))];
    peerTls = loadTls(cfg.peerTls, { ...common, peer: true, autoDir: path.join(cfg.dataDir, 'fixtures', 'peer'), hosts: hosts(cfg.listenPeerUrls) });
    if (peerTls) logger.info('starting with peer TLS', { 'tls-info': peerTls.description, 'cipher-suites': cipherNames(cfg.cipherSuites) });
    clientTls = loadTls(cfg.clientTls, { ...common, peer: false, autoDir: path.join(cfg.dataDir, 'fixtures', 'client'), hosts: hosts(cfg.listenClientUrls) });
    if (clientTls) logger.info('starting with client TLS', { 'tls-info': clientTls.description, 'cipher-suites': cipherNames(cfg.cipherSuites) });
  } catch (e) {
    if (e instanceof TlsSetupError) {
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
      joined = await fetchExistingCluster({ name: cfg.name, initialCluster: cfg.initialCluster, logger, tls: peerTls });
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
      peerTls,
      authTokenTtlSeconds: cfg.authTokenTtlSeconds,
      authToken: cfg.authToken,
      bcryptCost: cfg.bcryptCost,
      clientCertAuth: cfg.clientTls.clientCertAuth,
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
    tls: clientTls,
  });
  logger.info('ready to serve client requests', { name: cfg.name, 'data-dir': cfg.dataDir });
  // systemd readiness (Type=notify units), once the member has joined the cluster and serves
  // clients, as etcd's notifySystemd after ReadyNotify; words of etcd 3.5's log.
  if ((process.env.NOTIFY_SOCKET ?? '') !== '') {
    void server.whenPublished().then(() => {
      logger.info('notifying init daemon');
      try {
        sdNotify(sdNotifyReady);
        logger.info('successfully notified init daemon');
      } catch (e) {
        if (!(e instanceof SdNotifyError)) throw e;
        logger.error('failed to notify systemd for readiness', { error: e.message });
      }
    });
  }
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

function cipherNames(list: string): string[] {
  return list.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

void main();

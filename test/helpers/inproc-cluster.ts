/**
 * Options for EtcdServer members of a three-member cluster in one process over MemHub (the
 * in-memory peer network): ids 0x1001/0x2002/0x3003, cluster 0xc1, short election timeouts,
 * each member's log lines kept (by data dir) for tests that check what happened inside.
 */
import path from 'node:path';
import { createTestLogger, type LogLevel } from '../../src/base/logger.js';
import type { ServerOptions } from '../../src/server/etcd-server.js';
import type { MemHub } from './mem-hub.js';

export const inprocIds = [0x1001n, 0x2002n, 0x3003n];

/** Log lines of every member started with inprocOptions, by data dir. */
export const inprocLogs = new Map<string, string[]>();

export function inprocOptions(hub: MemHub, dir: string, i: number, extra: Partial<ServerOptions> = {}, logLevel: LogLevel = 'warn'): ServerOptions {
  const tl = createTestLogger(logLevel);
  const dataDir = path.join(dir, `m${i}`);
  inprocLogs.set(dataDir, tl.lines);
  return {
    name: `m${i}`,
    dataDir,
    memberId: inprocIds[i] as bigint,
    clusterId: 0xc1n,
    members: inprocIds.map((id, k) => ({ id, name: '', peerURLs: [`http://127.0.0.1:${20000 + k}`], clientURLs: [], isLearner: false })),
    advertiseClientUrls: [`http://127.0.0.1:${30000 + i}`],
    maxTxnOps: 128,
    maxRequestBytes: 1.5 * 1024 * 1024,
    electionTimeoutMs: 200,
    heartbeatIntervalMs: 20,
    quotaBackendBytes: 2 ** 31,
    snapshotCount: 100_000,
    snapshotCatchupEntries: 5000,
    preVote: true,
    logger: tl.logger,
    transport: ({ memberId, handler }) => hub.transport(memberId, handler),
    ...extra,
  };
}

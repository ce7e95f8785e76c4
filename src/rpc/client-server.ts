/**
 * The client-facing server of one member: gRPC services and HTTP/1.1 endpoints sharing each
 * --listen-client-urls port (client-listener.ts). Services not built yet are registered without
 * handlers, so their methods answer UNIMPLEMENTED.
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../base/logger.js';
import { grpcOverheadBytes } from '../base/limits.js';
import {
  authService,
  clusterService,
  electionService,
  healthService,
  kvService,
  leaseService,
  lockService,
  maintenanceService,
} from '../api/proto.js';
import { clusterVersion, serverVersion, type EtcdServer } from '../server/etcd-server.js';
import { listenClient, type ClientListener } from './client-listener.js';
import { kvHandlers } from './kv-service.js';
import { leaseHandlers } from './lease-service.js';
import { clusterHandlers, healthHandlers, maintenanceHandlers, unhealthyAlarm } from './maintenance-service.js';
import { watchHandlers, watchServiceRaw } from './watch-service.js';
import { memberHandlers, moveLeaderHandler } from './cluster-service.js';
import { guardLearner } from './learner-guard.js';

export interface ClientServer {
  listeners: ClientListener[];
  close(): Promise<void>;
}

export interface ClientServerOptions {
  /** --experimental-watch-progress-notify-interval */
  watchProgressNotifyIntervalMs?: number;
}

export async function startClientServer(server: EtcdServer, urls: URL[], logger: Logger, opts: ClientServerOptions = {}): Promise<ClientServer> {
  const onUnknown = (e: unknown): void => logger.error('unexpected error serving a request', { error: String(e) });
  const g = new grpc.Server({
    'grpc.max_receive_message_length': server.opts.maxRequestBytes + grpcOverheadBytes,
    'grpc.max_send_message_length': 2 ** 31 - 1,
  });
  g.addService(kvService, guardLearner(server, kvHandlers(server, onUnknown)) as grpc.UntypedServiceImplementation);
  g.addService(maintenanceService, guardLearner(server, { ...maintenanceHandlers(server, onUnknown), MoveLeader: moveLeaderHandler(server, onUnknown) }) as grpc.UntypedServiceImplementation);
  g.addService(clusterService, guardLearner(server, { ...clusterHandlers(server, onUnknown), ...memberHandlers(server, onUnknown) }) as grpc.UntypedServiceImplementation);
  g.addService(healthService, healthHandlers());
  g.addService(watchServiceRaw, watchHandlers(server, { progressNotifyIntervalMs: opts.watchProgressNotifyIntervalMs }, onUnknown));
  g.addService(leaseService, leaseHandlers(server, onUnknown));
  for (const svc of [authService, electionService, lockService]) g.addService(svc, {});

  const h = http.createServer((req, res) => void handleHttp(server, req, res));
  const listeners: ClientListener[] = [];
  for (const u of urls) {
    const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port || 2379);
    listeners.push(await listenClient(host, port, g, h));
    logger.info('serving client traffic insecurely; this is strongly discouraged!', { address: `${host}:${port}` });
  }
  return {
    listeners,
    close: async () => {
      await Promise.all(listeners.map((l) => l.close()));
      g.forceShutdown();
    },
  };
}

async function handleHttp(server: EtcdServer, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const send = (status: number, body: string, type = 'application/json'): void => {
    res.writeHead(status, { 'Content-Type': type });
    res.end(body);
  };
  if (url.pathname === '/version') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method Not Allowed', 'text/plain');
    return send(200, JSON.stringify({ etcdserver: serverVersion, etcdcluster: clusterVersion }));
  }
  if (url.pathname === '/health') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method Not Allowed', 'text/plain');
    if (server.leader() === 0n) return send(503, JSON.stringify({ health: 'false', reason: 'RAFT NO LEADER' }));
    try {
      // etcd: an active alarm (not excluded with ?exclude=NAME) makes the member unhealthy.
      const alarm = unhealthyAlarm(server, url.searchParams.getAll('exclude'));
      if (alarm) return send(503, JSON.stringify({ health: 'false', reason: `ALARM ${alarm}` }));
      // etcd 3.5: healthy when a linearizable read completes (or a serializable one if asked).
      if (url.searchParams.get('serializable') !== 'true') await server.linearizableRead();
      return send(200, JSON.stringify({ health: 'true', reason: '' }));
    } catch (e) {
      return send(503, JSON.stringify({ health: 'false', reason: e instanceof Error ? e.message : String(e) }));
    }
  }
  send(404, '404 page not found\n', 'text/plain; charset=utf-8');
}

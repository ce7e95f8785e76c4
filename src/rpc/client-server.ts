/**
 * The client-facing server of one member: gRPC (h2/grpc-server.ts, etcdts's own HTTP/2) and
 * HTTP/1.1 endpoints sharing each --listen-client-urls port (client-listener.ts). Services not
 * built yet are registered without handlers, so their methods answer UNIMPLEMENTED.
 */
import http from 'node:http';
import type { Logger } from '../base/logger.js';
import type { TlsMaterial } from '../base/tls.js';
import { grpcOverheadBytes } from '../base/limits.js';
import { clusterVersion, serverVersion, type EtcdServer } from '../server/etcd-server.js';
import { listenClient, type ClientListener } from './client-listener.js';
import { toGrpcStatus } from './grpc-status.js';
import { GrpcServer, type MethodDef } from './h2/grpc-server.js';
import { MetricsHub, healthCounts } from './metrics.js';
import { Gateway, corsHeaders, gatewayPath } from './gateway.js';
import { kvHandlers } from './kv-service.js';
import { leaseHandlers } from './lease-service.js';
import { clusterHandlers, healthHandlers, maintenanceHandlers, unhealthyAlarm } from './maintenance-service.js';
import { watchHandlers } from './watch-service.js';
import { memberHandlers, moveLeaderHandler } from './cluster-service.js';
import { guardLearner } from './learner-guard.js';
import { UiStatic } from './ui-static.js';
import { authHandlers } from './auth-service.js';
import { bindService } from './unary.js';
import { electionHandlers } from './election-service.js';
import { lockHandlers } from './lock-service.js';
import { hashHandler } from './hash-service.js';

export interface ClientServer {
  listeners: ClientListener[];
  metrics: MetricsHub;
  close(): Promise<void>;
}

export interface ClientServerOptions {
  /** --experimental-watch-progress-notify-interval */
  watchProgressNotifyIntervalMs?: number;
  /** Client TLS (base/tls.ts loadTls): serves the https:// URLs; null when none is configured. */
  tls?: TlsMaterial | null;
  /** --max-concurrent-streams: streams per client connection (HTTP/2 SETTINGS). */
  maxConcurrentStreams?: number;
  /** --metrics: 'extensive' adds gRPC handling-time histograms. */
  metrics?: string;
  /** --listen-metrics-urls: extra listeners serving /metrics and /health. */
  metricsUrls?: URL[];
  /** --enable-grpc-gateway (default true): the JSON gateway on /v3/ and /v3beta/. */
  enableGateway?: boolean;
  /** --ui: serve the web console under /ui/ (ui-static.ts). */
  ui?: boolean;
}

export async function startClientServer(server: EtcdServer, urls: URL[], logger: Logger, opts: ClientServerOptions = {}): Promise<ClientServer> {
  const onUnknown = (e: unknown): void => logger.error('unexpected error serving a request', { error: String(e) });
  const g = new GrpcServer({
    maxReceiveBytes: server.opts.maxRequestBytes + grpcOverheadBytes,
    toStatus: (e) => toGrpcStatus(e, onUnknown),
    h2: opts.maxConcurrentStreams === undefined ? undefined : { maxConcurrentStreams: opts.maxConcurrentStreams },
  });
  const hub = new MetricsHub(server, opts.metrics === 'extensive');
  const add = (name: string, methods: Record<string, MethodDef | null>): void => g.addService(name, hub.instrument(name, methods));
  add('etcdserverpb.KV', bindService('etcdserverpb.KV', kvHandlers(server)));
  add('etcdserverpb.Maintenance', bindService('etcdserverpb.Maintenance', guardLearner(server, { ...maintenanceHandlers(server, onUnknown), MoveLeader: moveLeaderHandler(server), Hash: hashHandler(server) })));
  add('etcdserverpb.Cluster', bindService('etcdserverpb.Cluster', guardLearner(server, { ...clusterHandlers(server), ...memberHandlers(server) })));
  add('grpc.health.v1.Health', bindService('grpc.health.v1.Health', healthHandlers()));
  add('etcdserverpb.Watch', bindService('etcdserverpb.Watch', watchHandlers(server, { progressNotifyIntervalMs: opts.watchProgressNotifyIntervalMs }, onUnknown)));
  add('etcdserverpb.Lease', bindService('etcdserverpb.Lease', leaseHandlers(server, onUnknown)));
  add('v3electionpb.Election', bindService('v3electionpb.Election', electionHandlers(server)));
  add('v3lockpb.Lock', bindService('v3lockpb.Lock', lockHandlers(server)));
  add('etcdserverpb.Auth', bindService('etcdserverpb.Auth', guardLearner(server, authHandlers(server))));

  const gateway = opts.enableGateway === false ? null : new Gateway(g);
  const ui = opts.ui === true ? new UiStatic() : null;
  const h = http.createServer((req, res) => void (ui?.handle(req, res) || handleHttp(server, gateway, hub, req, res).catch((e: unknown) => failHttp(res, e))));
  const listeners: ClientListener[] = [];
  // One listener per address; http:// and https:// on the same address share it (etcd's cmux).
  const byAddress = new Map<string, { host: string; port: number; plain: boolean; secure: boolean }>();
  for (const u of urls) {
    const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port || 2379);
    const key = `${host}:${port}`;
    const a = byAddress.get(key) ?? { host, port, plain: false, secure: false };
    if (u.protocol === 'https:' && opts.tls) a.secure = true;
    else {
      if (u.protocol === 'https:') logger.warn('no client TLS configured; serving an https URL in plain text', { address: key });
      else if (opts.tls) logger.warn('scheme is HTTP while key and cert files are present; ignoring key and cert files', { 'client-url': u.href.replace(/\/$/, '') });
      a.plain = true;
    }
    byAddress.set(key, a);
  }
  for (const a of byAddress.values()) {
    listeners.push(await listenClient(a.host, a.port, g, h, { plain: a.plain, tls: a.secure ? (opts.tls ?? null) : null, logger }));
    const address = `${a.host}:${a.port}`;
    if (a.plain) logger.info('serving client traffic insecurely; this is strongly discouraged!', { address });
    if (a.secure) logger.info('serving client traffic securely', { address });
  }
  // --listen-metrics-urls: /metrics and /health only (etcd HandleMetricsHealth).
  const metricsServers: http.Server[] = [];
  for (const u of opts.metricsUrls ?? []) {
    const ms = http.createServer((req, res) => void handleHttp(server, null, hub, req, res, true).catch((e: unknown) => failHttp(res, e)));
    const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port || 80);
    await new Promise<void>((resolve, reject) => {
      ms.once('error', reject);
      ms.listen(port, host, () => resolve());
    });
    metricsServers.push(ms);
    logger.info('serving metrics', { address: `${u.protocol}//${host}:${port}/metrics` });
  }
  return {
    listeners,
    metrics: hub,
    close: async () => {
      await Promise.all(metricsServers.map((ms) => new Promise<void>((resolve) => ms.close(() => resolve()))));
      for (const ms of metricsServers) ms.closeAllConnections();
      await Promise.all(listeners.map((l) => l.close()));
      await g.close(0);
    },
  };
}
/**
 * What a request handler's failure leaves: a client that went away mid-request (its body read
 * rejects with "aborted") or a bug in a handler. Either way the member keeps serving — an
 * unhandled rejection would end the process — and the request gets a 500 if nothing was sent yet.
 */
function failHttp(res: http.ServerResponse, e: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  if (!res.headersSent) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${e instanceof Error ? e.message : String(e)}\n`);
    return;
  }
  res.destroy();
}

async function handleHttp(server: EtcdServer, gateway: Gateway | null, hub: MetricsHub, req: http.IncomingMessage, res: http.ServerResponse, metricsOnly = false): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  for (const [k, v] of Object.entries(corsHeaders)) res.setHeader(k, v);
  // etcd's CORS handler answers every preflight itself.
  if (req.method === 'OPTIONS') return void res.writeHead(200, { 'Content-Length': 0 }).end();
  const sub = gateway === null ? null : gatewayPath(url.pathname);
  if (gateway !== null && sub !== null) return gateway.serve(sub, req, res);
  let send = (status: number, body: string, type = 'application/json'): void => {
    res.writeHead(status, { 'Content-Type': type });
    res.end(body);
  };
  if (url.pathname === '/metrics') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method Not Allowed', 'text/plain');
    return send(200, await hub.text(), hub.registry.contentType);
  }
  if (metricsOnly && url.pathname !== '/health') return send(404, '404 page not found\n', 'text/plain; charset=utf-8');
  if (url.pathname === '/version') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method Not Allowed', 'text/plain');
    return send(200, JSON.stringify({ etcdserver: serverVersion, etcdcluster: clusterVersion }));
  }
  if (url.pathname === '/health') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method Not Allowed', 'text/plain');
    const sent = send;
    send = (status, body, type) => {
      if (status === 200) healthCounts.success++;
      else healthCounts.failures++;
      sent(status, body, type);
    };
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

/**
 * A small etcd v3 client over grpc-js for ctl and tests: a list of endpoints tried in order
 * (failover on UNAVAILABLE), a dial timeout, and a per-call deadline. Responses are returned as
 * proto-loader objects (64-bit integers as decimal strings, bytes as Buffer) because the
 * printers print whole responses exactly as etcdctl does.
 */
import * as grpc from '@grpc/grpc-js';
import { ClusterClient, KVClient, MaintenanceClient } from '../api/proto.js';

export interface ClientOptions {
  endpoints: string[];
  dialTimeoutMs: number;
  commandTimeoutMs: number;
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
}

type Callback = (err: grpc.ServiceError | null, resp: unknown) => void;
type Method = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => void;

type Wire = Record<string, unknown>;

export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    message: string,
    readonly code: grpc.status,
  ) {
    super(message);
  }
}

function target(endpoint: string): string {
  return endpoint.replace(/^https?:\/\//, '').replace(/\/$/, '');
}

export class EtcdClient {
  private readonly clients = new Map<string, grpc.Client>();

  constructor(readonly opts: ClientOptions) {}

  private client(ctor: grpc.ServiceClientConstructor, endpoint: string): grpc.Client {
    const key = `${ctor.serviceName}@${endpoint}`;
    let c = this.clients.get(key);
    if (!c) {
      c = new ctor(target(endpoint), grpc.credentials.createInsecure(), {
        'grpc.keepalive_time_ms': this.opts.keepaliveTimeMs ?? 2000,
        'grpc.keepalive_timeout_ms': this.opts.keepaliveTimeoutMs ?? 6000,
        'grpc.max_receive_message_length': 2 ** 31 - 1,
      });
      this.clients.set(key, c);
    }
    return c;
  }

  /** Calls one endpoint. */
  callOn(endpoint: string, ctor: grpc.ServiceClientConstructor, method: string, req: Wire): Promise<Wire> {
    const c = this.client(ctor, endpoint);
    const fn = (c as unknown as Record<string, Method>)[method] as Method;
    const deadline = Date.now() + this.opts.dialTimeoutMs + this.opts.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      fn.call(c, req, new grpc.Metadata(), { deadline }, (err, resp) => {
        if (err) {
          const msg = err.code === grpc.status.DEADLINE_EXCEEDED ? 'context deadline exceeded' : err.details || err.message;
          reject(new ClientError(msg, err.code));
        } else resolve(resp as Wire);
      });
    });
  }

  /** Calls the first endpoint that answers; fails over while endpoints are unavailable. */
  async call(ctor: grpc.ServiceClientConstructor, method: string, req: Wire): Promise<Wire> {
    let last: unknown;
    for (const ep of this.opts.endpoints) {
      try {
        return await this.callOn(ep, ctor, method, req);
      } catch (e) {
        last = e;
        if (!(e instanceof ClientError) || (e.code !== grpc.status.UNAVAILABLE && e.code !== grpc.status.DEADLINE_EXCEEDED)) throw e;
      }
    }
    throw last;
  }

  range(req: Wire): Promise<Wire> {
    return this.call(KVClient, 'Range', req);
  }
  put(req: Wire): Promise<Wire> {
    return this.call(KVClient, 'Put', req);
  }
  deleteRange(req: Wire): Promise<Wire> {
    return this.call(KVClient, 'DeleteRange', req);
  }
  txn(req: Wire): Promise<Wire> {
    return this.call(KVClient, 'Txn', req);
  }
  compact(req: Wire): Promise<Wire> {
    return this.call(KVClient, 'Compact', req);
  }
  memberList(): Promise<Wire> {
    return this.call(ClusterClient, 'MemberList', {});
  }
  status(endpoint: string): Promise<Wire> {
    return this.callOn(endpoint, MaintenanceClient, 'Status', {});
  }
  alarmList(endpoint: string): Promise<Wire> {
    return this.callOn(endpoint, MaintenanceClient, 'Alarm', { action: 0, memberID: '0', alarm: 0 });
  }
  rangeOn(endpoint: string, req: Wire): Promise<Wire> {
    return this.callOn(endpoint, KVClient, 'Range', req);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

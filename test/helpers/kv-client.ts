/** A minimal promise wrapper over the generated KV client, for tests that drive load. */
import * as grpc from '@grpc/grpc-js';
import { KVClient } from '../../src/api/proto.js';

export interface WireKv {
  key: Buffer;
  value: Buffer;
  mod_revision: string;
  create_revision: string;
  version: string;
}

export class TestKv {
  private readonly c: grpc.Client & Record<string, (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void>;
  constructor(endpoint: string) {
    this.c = new KVClient(endpoint, grpc.credentials.createInsecure()) as never;
  }
  private call<T>(method: string, req: unknown, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = this.c[method] as (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void;
      fn.call(this.c, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r as T)));
    });
  }
  put(key: string, value: string): Promise<{ header: { revision: string } }> {
    return this.call('Put', { key: Buffer.from(key), value: Buffer.from(value) });
  }
  range(key: string, rangeEnd = '', serializable = false): Promise<{ header: { revision: string }; kvs: WireKv[]; count: string }> {
    return this.call('Range', { key: Buffer.from(key), range_end: Buffer.from(rangeEnd), serializable });
  }
  close(): void {
    this.c.close();
  }
}

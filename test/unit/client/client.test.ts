/** Client pieces that need no server: endpoints, error texts, wire pruning, deadline on a dead endpoint. */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { EtcdClient, type RetryWarning } from '../../../src/client/client.js';
import { parseEndpoint, splitEndpoints } from '../../../src/client/endpoints.js';
import { ClientError, goStatusText } from '../../../src/client/errors.js';
import { pruneWire } from '../../../src/client/wire.js';

describe('endpoints', () => {
  it('accepts host:port with or without a scheme', () => {
    expect(parseEndpoint('127.0.0.1:2379')).toEqual({ given: '127.0.0.1:2379', hostPort: '127.0.0.1:2379', secure: false });
    expect(parseEndpoint('http://localhost:2379')).toMatchObject({ hostPort: 'localhost:2379', secure: false });
    expect(parseEndpoint('https://h:1/')).toMatchObject({ hostPort: 'h:1', secure: true });
    expect(splitEndpoints(' a:1, b:2,,')).toEqual(['a:1', 'b:2']);
  });
});

describe('ClientError', () => {
  it('shows etcd errors bare, others as grpc-go status text', () => {
    expect(new ClientError(11, 'etcdserver: mvcc: required revision is a future revision').message).toBe(
      'etcdserver: mvcc: required revision is a future revision',
    );
    expect(new ClientError(12, 'unknown service etcdserverpb.Lease').message).toBe(
      'rpc error: code = Unimplemented desc = unknown service etcdserverpb.Lease',
    );
    expect(goStatusText(11, 'x')).toBe('rpc error: code = OutOfRange desc = x');
  });
});

describe('wire pruning', () => {
  it('drops default values (an empty range_end must not be sent) and keeps the chosen oneof member', () => {
    expect(pruneWire('etcdserverpb.RangeRequest', { key: Buffer.from('k'), range_end: Buffer.alloc(0), limit: '0', keys_only: false })).toEqual({
      key: Buffer.from('k'),
    });
    const op = pruneWire('etcdserverpb.RequestOp', { request: 'request_put', request_put: { key: Buffer.from('k'), value: Buffer.alloc(0) } });
    expect(op).toEqual({ request: 'request_put', request_put: { key: Buffer.from('k') } });
  });
});

describe('EtcdClient against a dead endpoint', () => {
  it('fails at the command timeout with context deadline exceeded and one retry warning', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const warnings: RetryWarning[] = [];
    const c = new EtcdClient({ endpoints: [`127.0.0.1:${port}`], commandTimeoutMs: 300, onRetryWarning: (w) => warnings.push(w) });
    const started = Date.now();
    const err = await c.range({ key: Buffer.from('a') }).catch((e: unknown) => e);
    c.close();
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).message).toBe('context deadline exceeded');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      attempt: 0,
      error: 'rpc error: code = DeadlineExceeded desc = latest balancer error: all SubConns are in TransientFailure',
    });
    expect(warnings[0]?.target).toMatch(new RegExp(`^endpoint://client-[0-9a-f-]{36}/127\\.0\\.0\\.1:${port}$`));
  });
});

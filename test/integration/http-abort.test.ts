/**
 * HTTP/1.1 requests on the client port that the client abandons mid-body. Found by the fuzzer
 * (scripts/fuzz.ts, seed 681052564): a gateway POST whose body never completed before the socket
 * closed made the body read reject ("aborted"), nothing caught it, and the member exited on the
 * unhandled rejection. etcd's gateway drops such a request and keeps serving; so must etcdts.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, killAll, startMember, type MemberProc } from '../helpers/procs.js';

let m: MemberProc;
beforeAll(async () => {
  m = await startMember({ kind: 'etcdts' });
});
afterAll(() => killAll());

function abandon(port: number, head: string, body: string): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(head + body, () => setTimeout(() => s.destroy(), 50));
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

describe('abandoned HTTP requests', () => {
  it('a gateway POST whose body never arrives whole is dropped; the member keeps serving', async () => {
    const port = Number(new URL(m.clientUrl).port);
    for (const p of ['/v3/kv/put', '/v3/watch', '/v3/lease/keepalive', '/v3beta/kv/range']) {
      await abandon(port, `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n`, '{"key":"Zm9v"');
      await abandon(port, `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, '5\r\n{"key');
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(m.proc.exitCode).toBeNull();
    const r = await fetch(`${m.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: 'Zm9v', value: 'YmFy' }) });
    expect(r.status).toBe(200);
    expect((await httpGet(`${m.clientUrl}/health`)).status).toBe(200);
  });
});

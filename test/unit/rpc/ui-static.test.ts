/** The console's static files under /ui/ (src/rpc/ui-static.ts), on a plain HTTP server. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UiStatic } from '../../../src/rpc/ui-static.js';

async function serve(ui: UiStatic): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    if (!ui.handle(req, res)) res.writeHead(418).end('not the console');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, server };
}

describe('UiStatic', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ui-static-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'notes.md'), 'not served: unknown type');
  mkdirSync(path.join(dir, 'sub'));
  let s: { url: string; server: http.Server };
  let none: { url: string; server: http.Server };
  beforeAll(async () => {
    s = await serve(new UiStatic(dir));
    none = await serve(new UiStatic(path.join(dir, 'missing')));
  });
  afterAll(() => {
    s.server.close();
    none.server.close();
  });

  it('serves index.html at /ui/ with its type, an ETag and a strict content security policy', async () => {
    const r = await fetch(`${s.url}/ui/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await r.text()).toContain('<title>x</title>');
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const again = await fetch(`${s.url}/ui/`, { headers: { 'If-None-Match': r.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
    expect((await fetch(`${s.url}/ui/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('redirects /ui to /ui/, refuses other methods, and serves only the files in its directory', async () => {
    const r = await fetch(`${s.url}/ui?x=1`, { redirect: 'manual' });
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe('/ui/');
    expect((await fetch(`${s.url}/ui/`, { method: 'POST' })).status).toBe(405);
    for (const p of ['/ui/nope.js', '/ui/notes.md', '/ui/sub', '/ui/..%2Fpackage.json', '/ui/sub/../app.js%00']) expect((await fetch(`${s.url}${p}`)).status, p).toBe(404);
    const head = await fetch(`${s.url}/ui/app.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('14');
  });

  it('leaves every other path to the rest of the server', async () => {
    for (const p of ['/', '/uix', '/v3/kv/range', '/health']) expect((await fetch(`${s.url}${p}`)).status, p).toBe(418);
  });

  it('says how to build the console when its files are missing', async () => {
    const r = await fetch(`${none.url}/ui/`);
    expect(r.status).toBe(503);
    expect(await r.text()).toContain('npm run build');
  });
});

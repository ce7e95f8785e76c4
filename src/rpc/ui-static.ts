/**
 * The web console (issue 15) under /ui/ on the client port: the files `npm run build` writes to
 * dist/ui (scripts/build-ui.mjs bundles ui/). Nothing else on the server belongs to it: the page
 * talks to the member through the JSON gateway (/v3/...) and /metrics, as any HTTP client would,
 * with the same auth.
 *
 * The files are read once, on the first request (a few hundred KiB), and answered from memory
 * with an ETag; only names in that directory are served, so no path reaches outside it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/ui of this package, from src/rpc (tests) or dist/rpc (built) alike. */
export const uiAssetsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/ui');

/** The URL prefix the console lives under. */
export const uiPath = '/ui/';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
};

/**
 * The page calls other members' client URLs (their status, health, defragment), so connect-src
 * allows any http(s) origin; scripts and styles come from this member only, and the console
 * cannot be framed (its confirms must not be clicked through an overlay).
 */
const securityHeaders: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export class UiStatic {
  private assets: Map<string, Asset> | null = null;

  constructor(private readonly dir: string = uiAssetsDir) {}

  /** Answers a request under /ui; false (nothing written) for any other path. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (pathname !== '/ui' && !pathname.startsWith(uiPath)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method Not Allowed\n');
      return true;
    }
    if (pathname === '/ui') {
      res.writeHead(301, { Location: uiPath });
      res.end();
      return true;
    }
    const assets = this.load();
    if (assets.size === 0) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('The web console was not built: run `npm run build`.\n');
      return true;
    }
    const name = pathname === uiPath ? 'index.html' : pathname.slice(uiPath.length);
    const asset = assets.get(name);
    if (asset === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return true;
    }
    const headers = { ...securityHeaders, 'Content-Type': asset.type, ETag: asset.etag, 'Cache-Control': 'no-cache' };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'Content-Length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  }

  private load(): Map<string, Asset> {
    if (this.assets !== null) return this.assets;
    const assets = new Map<string, Asset>();
    if (existsSync(this.dir)) {
      for (const name of readdirSync(this.dir)) {
        const file = path.join(this.dir, name);
        const type = contentTypes[path.extname(name)];
        if (type === undefined || !statSync(file).isFile()) continue;
        const body = readFileSync(file);
        assets.set(name, { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` });
      }
    }
    this.assets = assets;
    return assets;
  }
}

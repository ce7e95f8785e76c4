/**
 * Browser-test helpers: Debian's headless Chromium driven by playwright-core (nothing is
 * downloaded: the browser is /usr/bin/chromium, which .ci/run installs), pages that fail the
 * test on a script error, screenshots, and a plain HTTP server for the console's files so the
 * same page can be pointed at a real etcd's gateway.
 */
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { UiStatic } from '../../src/rpc/ui-static.js';
import { repoRoot } from '../helpers/procs.js';

export const chromiumPath = process.env.ETCDTS_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors (a test ends by expecting none). */
  errors: string[];
}

/**
 * A fresh context and page at 1280×800 (or as asked). `api` points the console at another
 * member's client URL (the console's files then come from `consoleUrl`, not from that member).
 */
export async function openConsole(browser: Browser, consoleUrl: string, o: { api?: string; viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark'; hash?: string } = {}): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 800 }, colorScheme: o.colorScheme ?? 'light' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (o.api !== undefined) await page.addInitScript({ content: `window.etcdtsConsoleApi = ${JSON.stringify(o.api)};` });
  await page.goto(`${consoleUrl}${o.hash ?? ''}`);
  return { context, page, errors };
}

/** Where screenshots go: a temporary directory (printed by the tests that take them). */
export const screenshotDir = path.join(os.tmpdir(), 'etcdts-console-screenshots');
/** With ETCDTS_UPDATE_SCREENSHOTS=1 the README's screenshots are rewritten from the current build. */
const readmeShots = process.env.ETCDTS_UPDATE_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs', 'screenshots') : null;

export async function screenshot(page: Page, name: string, o: { readme?: boolean } = {}): Promise<string> {
  const dir = o.readme === true && readmeShots !== null ? readmeShots : screenshotDir;
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The console's built files on a loopback port of their own (for pages that talk to a real etcd). */
export async function serveConsoleFiles(): Promise<{ url: string; close(): Promise<void> }> {
  const ui = new UiStatic();
  const server = http.createServer((req, res) => {
    if (!ui.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}/ui/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Whether a member serves etcd's JSON gateway (/v3/...). */
export async function servesGateway(clientUrl: string): Promise<boolean> {
  try {
    const r = await fetch(`${clientUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: 'AA==' }), signal: AbortSignal.timeout(3000) });
    return r.status !== 404;
  } catch {
    return false;
  }
}

/** Puts n keys through the gateway, as txns of `perTxn` puts, a few at a time. */
export async function putMany(clientUrl: string, keys: string[], value: (k: string) => string, perTxn = 100): Promise<void> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += perTxn) batches.push(keys.slice(i, i + perTxn));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++] as string[];
      const r = await fetch(`${clientUrl}/v3/kv/txn`, {
        method: 'POST',
        body: JSON.stringify({ success: batch.map((k) => ({ request_put: { key: b64(k), value: b64(value(k)) } })) }),
      });
      if (!r.ok) throw new Error(`txn: ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

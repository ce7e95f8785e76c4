/**
 * The web console against a real etcd 3.4.23: the page's files from etcdts's UiStatic, every
 * API call to etcd's own JSON gateway. This proves the page speaks etcd's gateway contract (the
 * same tests run against etcdts in console-etcdts.test.ts). Under CI a missing etcd or Chromium
 * is a failure, not a skip (.ci/check-report.mjs).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdctl, hasEtcd, hasEtcdctl, inCI, killAll, startMember, type MemberProc } from '../helpers/procs.js';
import { hasChromium, launchBrowser, openConsole, screenshot, serveConsoleFiles } from './browser.js';

const ready = hasEtcd && hasEtcdctl && hasChromium;
if (inCI && !ready) throw new Error(`CI must run the console tests: etcd ${hasEtcd}, etcdctl ${hasEtcdctl}, chromium ${hasChromium}`);

describe.skipIf(!ready)('web console against etcd 3.4.23', () => {
  let etcd: MemberProc;
  let files: { url: string; close(): Promise<void> };
  let browser: Browser;
  const ctl = (...args: string[]) => etcdctl(etcd.endpoint, args);

  beforeAll(async () => {
    [etcd, files, browser] = await Promise.all([startMember({ kind: 'etcd', name: 'ui-etcd' }), serveConsoleFiles(), launchBrowser()]);
    for (const [k, v] of [
      ['/svc/web/1', '{"host":"10.0.0.1","port":8080}'],
      ['/svc/web/2', '{"host":"10.0.0.2","port":8080}'],
      ['/svc/db/1', 'primary'],
      ['/config/mode', 'blue'],
    ]) expect((await ctl('put', k as string, v as string)).code).toBe(0);
  });
  afterAll(async () => {
    await browser?.close();
    await files?.close();
    killAll();
  });

  it('browses the tree, opens a JSON value pretty-printed, puts and deletes through the UI (etcdctl sees it)', async () => {
    const { page, errors, context } = await openConsole(browser, files.url, { api: etcd.clientUrl });
    // Every key is under "/": the tree opens that folder by itself.
    await page.locator('[role=treeitem][data-key="/svc/"]').click();
    await page.locator('[role=treeitem][data-key="/svc/web/"]').click();
    await page.locator('[role=treeitem][data-key="/svc/web/1"]').click();
    await expect.poll(() => page.locator('pre.value').textContent()).toBe(JSON.stringify({ host: '10.0.0.1', port: 8080 }, null, 2));

    await page.getByRole('button', { name: 'New key' }).click();
    await page.locator('input[name=key]').fill('/svc/web/3');
    await page.locator('textarea[name=value]').fill('from the browser');
    await page.getByRole('button', { name: 'Put', exact: true }).click();
    await expect.poll(async () => (await ctl('get', '/svc/web/3', '--print-value-only')).stdout).toBe('from the browser\n');
    await expect.poll(() => page.locator('pre.value').textContent()).toBe('from the browser');

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(async () => (await ctl('get', '/svc/web/3')).stdout).toBe('');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('deletes a prefix after a confirm that names the count', async () => {
    for (const k of ['/tmp/a', '/tmp/b', '/tmp/c/d']) await ctl('put', k, 'x');
    const { page, context } = await openConsole(browser, files.url, { api: etcd.clientUrl, hash: `#/keys?prefix=${Buffer.from('/tmp/').toString('base64url')}` });
    await expect.poll(() => page.getByText('3 keys with this prefix.').count()).toBe(1);
    await page.getByRole('button', { name: 'Delete prefix…' }).click();
    const dialog = page.locator('dialog[open]');
    await expect.poll(() => dialog.textContent()).toContain('Delete all 3 keys');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await ctl('get', '/tmp/', '--prefix', '--keys-only')).stdout).toContain('/tmp/a');
    await page.getByRole('button', { name: 'Delete prefix…' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Delete 3 keys' }).click();
    await expect.poll(async () => (await ctl('get', '/tmp/', '--prefix')).stdout).toBe('');
    await context.close();
  });

  it('shows a key\'s history back to the compacted revision', async () => {
    const revs: number[] = [];
    for (const v of ['v1', 'v2', 'v3', 'v4']) {
      const r = await ctl('put', '/hist/k', v, '-w', 'json');
      revs.push(JSON.parse(r.stdout).header.revision as number);
    }
    expect((await ctl('compaction', String(revs[1]))).code).toBe(0);
    const { page, context } = await openConsole(browser, files.url, { api: etcd.clientUrl, hash: `#/keys?key=${Buffer.from('/hist/k').toString('base64url')}` });
    await page.getByRole('button', { name: 'History' }).click();
    const rows = page.locator('section.history tbody tr');
    // v1 is gone; v2 survives as the value at the compacted revision.
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.nth(0).textContent()).toContain('v4');
    expect(await rows.nth(2).textContent()).toContain('v2');
    expect(await page.locator('section.history').textContent()).toContain(`compacted revision ${revs[1]}`);
    await context.close();
  });

  it('live watch shows an etcdctl put within a second, with the previous value', async () => {
    await ctl('put', '/live/k', 'before');
    const { page, context } = await openConsole(browser, files.url, { api: etcd.clientUrl, hash: `#/watch?key=${Buffer.from('/live/').toString('base64url')}&prefix=1` });
    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => page.locator('.watch-state').textContent()).toContain('Watching');
    const rows = page.locator('table.events tbody tr');
    // Within a second of the put's acknowledgement (etcdctl's own start-up is not counted).
    const seen = rows.first().waitFor({ timeout: 10_000 }).then(() => Date.now());
    await ctl('put', '/live/k', 'after');
    const acked = Date.now();
    const lagMs = Math.max(0, (await seen) - acked);
    expect(lagMs).toBeLessThan(1000);
    expect(await rows.first().textContent()).toContain('/live/k');
    expect(await page.locator('td.event-prev').first().textContent()).toBe('before');
    await context.close();
  });

  it('counts a lease down and lists its keys', async () => {
    const g = await ctl('lease', 'grant', '40');
    const id = /lease ([0-9a-f]+) granted/.exec(g.stdout)?.[1] as string;
    await ctl('put', '/leased/k', 'v', `--lease=${id}`);
    const { page, context } = await openConsole(browser, files.url, { api: etcd.clientUrl, hash: '#/leases' });
    const row = page.locator(`tr[data-lease="${id.padStart(16, '0')}"]`);
    await row.waitFor();
    const ttl = async () => Number(await row.locator('.ttl').getAttribute('data-ttl'));
    const first = await ttl();
    expect(first).toBeGreaterThan(30);
    await expect.poll(ttl, { timeout: 5000 }).toBeLessThan(first);
    expect(await row.textContent()).toContain('/leased/k');
    await context.close();
  });

  it('asks for a login when auth is enabled, and works with the token', async () => {
    expect((await ctl('user', 'add', 'root', '--new-user-password=rootpw')).code).toBe(0);
    expect((await ctl('user', 'grant-role', 'root', 'root')).code).toBe(0);
    expect((await ctl('auth', 'enable')).code).toBe(0);
    try {
      const { page, context } = await openConsole(browser, files.url, { api: etcd.clientUrl });
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await page.locator('input[name=user]').fill('root');
      await page.locator('input[name=password]').fill('wrong');
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('authentication failed');
      await page.locator('input[name=password]').fill('rootpw');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator('[role=treeitem][data-key="/"]').waitFor();
      await page.getByRole('button', { name: 'Log out' }).waitFor();
      await context.close();
    } finally {
      await etcdctl(etcd.endpoint, ['--user=root:rootpw', 'auth', 'disable']);
    }
  });

  it('shows the member in the cluster view', async () => {
    const { page, context } = await openConsole(browser, files.url, { api: etcd.clientUrl, hash: '#/cluster' });
    const row = page.locator('tr[data-member="ui-etcd"]');
    await row.waitFor();
    expect(await row.getAttribute('data-role')).toBe('leader');
    await expect.poll(() => row.textContent()).toContain('healthy');
    expect(await row.textContent()).toContain('3.4.23');
    await row.getByRole('button', { name: 'Defragment' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Defragment' }).click();
    await page.getByRole('status').getByText('Defragmented ui-etcd').waitFor();
    await expect.poll(() => etcd.logs.join('')).toContain('finished defragmenting the storage backend');
    await context.close();
  });

  it('charts writes/s and reads/s from the member\'s own /metrics', async () => {
    const { page, context } = await openConsole(browser, files.url, { api: etcd.clientUrl, hash: '#/metrics' });
    await page.getByText("this member's /metrics").waitFor();
    const value = (title: string) => page.locator(`[data-metric="${title}"] .big`).textContent();
    const until = Date.now() + 6000;
    for (let i = 0; Date.now() < until; i++) {
      await ctl('put', `/load/${i % 5}`, String(i));
      await ctl('get', '/load/0');
    }
    await expect.poll(async () => Number(await value('Writes/s')), { timeout: 5000 }).toBeGreaterThan(0);
    expect(Number(await value('Reads/s'))).toBeGreaterThan(0);
    expect(Number(await value('Leader changes'))).toBe(1);
    await context.close();
  });
});

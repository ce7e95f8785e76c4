/**
 * The web console served by etcdts itself (--ui, on by default for loopback listeners) against
 * real etcdts members: a tree of 10 000 keys, a value, put and delete through the UI checked
 * with `ctl get`, keyboard navigation, a live watch that sees a `ctl put` within a second and
 * resumes after the member restarts, a 3-member cluster whose leader moves from the UI, a lease
 * counting down, auth login. Screenshots at 1280×800 and phone width, light and dark
 * (ETCDTS_UPDATE_SCREENSHOTS=1 writes the README's to docs/screenshots/).
 *
 * The console needs the JSON gateway (issue 13): a build without it fails here under CI and is
 * skipped elsewhere. The login test exists once the build has the Auth service (issue 12).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { addAndStart } from '../helpers/membership.js';
import { ctl, inCI, killAll, repoRoot, startMember, type MemberProc } from '../helpers/procs.js';
import { hasChromium, launchBrowser, openConsole, putMany, screenshot, servesGateway } from './browser.js';

if (inCI && !hasChromium) throw new Error('CI must run the console tests: chromium is not installed');

const b64url = (s: string): string => Buffer.from(s).toString('base64url');

/** The Auth service's gRPC/gateway handlers (issue 12). */
const authServiceBuilt = existsSync(path.join(repoRoot, 'src', 'rpc', 'auth-service.ts'));

async function gatewayOrSkip(clientUrl: string): Promise<boolean> {
  const ok = await servesGateway(clientUrl);
  if (!ok && inCI) throw new Error('etcdts serves no JSON gateway (/v3/...): the console cannot work (issue 13)');
  return ok;
}

describe.skipIf(!hasChromium)('web console served by an etcdts member', () => {
  let m: MemberProc;
  let browser: Browser;
  let gateway = false;
  let ui = '';

  beforeAll(async () => {
    [m, browser] = await Promise.all([startMember({ kind: 'etcdts', name: 'ui-1' }), launchBrowser()]);
    ui = `${m.clientUrl}/ui/`;
    gateway = await gatewayOrSkip(m.clientUrl);
  });
  afterAll(async () => {
    await browser?.close();
    killAll();
  });

  it('browses a tree of 10 000 keys by prefix, lazily, and opens a value', async (t) => {
    if (!gateway) return t.skip();
    const keys: string[] = [];
    for (let d = 0; d < 100; d++) for (let k = 0; k < 100; k++) keys.push(`/registry/ns${String(d).padStart(2, '0')}/pod-${String(k).padStart(3, '0')}`);
    await putMany(m.clientUrl, keys, (k) => JSON.stringify({ name: k.split('/').pop(), ns: k.split('/')[2], replicas: 3 }));
    await ctl(m.endpoint, ['put', '/readme', 'plain text']);

    const { page, errors, context } = await openConsole(browser, ui);
    const ranges: string[] = [];
    page.on('request', (r) => void (r.url().endsWith('/v3/kv/range') && ranges.push(r.postData() ?? '')));
    // Every key is under "/": the tree opens that folder by itself.
    await page.locator('[role=treeitem][data-key="/registry/"]').waitFor();
    ranges.length = 0;
    let t0 = Date.now();
    await page.locator('[role=treeitem][data-key="/registry/"]').click();
    await page.locator('[role=treeitem][data-key="/registry/ns99/"]').waitFor();
    const listMs = Date.now() - t0;
    // 100 folders of 100 keys: about one keys-only range per folder, never the 10 000 keys.
    expect(await page.locator('[role=treeitem][aria-level="3"]').count()).toBe(100);
    // (Choosing the folder also counts its keys, for its panel: one count_only range.)
    const listed = ranges.map((r) => JSON.parse(r) as { keys_only?: boolean; count_only?: boolean; limit?: string }).filter((r) => r.count_only !== true);
    expect(listed.every((r) => r.keys_only === true && Number(r.limit) <= 500)).toBe(true);
    expect(listed.length).toBeLessThanOrEqual(110);
    const listRanges = listed.length;
    t0 = Date.now();
    await page.locator('[role=treeitem][data-key="/registry/ns42/"]').click();
    await page.locator('[role=treeitem][data-key="/registry/ns42/pod-099"]').waitFor();
    const openMs = Date.now() - t0;
    await page.locator('[role=treeitem][data-key="/registry/ns42/pod-007"]').click();
    await expect.poll(() => page.locator('pre.value').textContent()).toBe(JSON.stringify({ name: 'pod-007', ns: 'ns42', replicas: 3 }, null, 2));
    expect(await page.locator('dl.meta').textContent()).toContain('Version1');
    console.log(`10 000 keys: listing /registry/ (100 folders) took ${listMs} ms in ${listRanges} ranges; opening a folder ${openMs} ms`);
    expect(listMs).toBeLessThan(5000);
    expect(openMs).toBeLessThan(2000);
    await screenshot(page, 'keys', { readme: true });
    await page.getByRole('tab', { name: 'Hex' }).click();
    expect(await page.locator('pre.value').textContent()).toMatch(/^00000000 {2}7b 22 6e 61/);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('is driven from the keyboard: arrows move and open folders, Enter opens a key', async (t) => {
    if (!gateway) return t.skip();
    await ctl(m.endpoint, ['put', 'kb/one', '1']);
    await ctl(m.endpoint, ['put', 'kb/two', '2']);
    const { page, context } = await openConsole(browser, ui);
    await page.locator('[role=treeitem]').first().waitFor();
    await page.locator('[role=treeitem]').first().focus();
    // Root: "/" (a folder), "kb/"; go down to kb/, open it, step in, Enter.
    const focusedKey = () => page.evaluate<string | null>("document.activeElement?.getAttribute('data-key') ?? null");
    await page.keyboard.press('End');
    expect(await focusedKey()).toBe('kb/');
    await page.keyboard.press('ArrowRight');
    await page.locator('[role=treeitem][data-key="kb/one"]').waitFor();
    await page.keyboard.press('ArrowRight');
    expect(await focusedKey()).toBe('kb/one');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('pre.value').textContent()).toBe('2');
    await page.keyboard.press('ArrowLeft');
    expect(await focusedKey()).toBe('kb/');
    // "/" jumps to the search box; typing a prefix lists the matching keys.
    await page.keyboard.press('/');
    await page.keyboard.type('kb/t');
    await page.getByRole('link', { name: 'kb/two' }).waitFor();
    await context.close();
  });

  it('puts and deletes a key through the UI, and ctl get sees each change', async (t) => {
    if (!gateway) return t.skip();
    const { page, context } = await openConsole(browser, ui);
    await page.getByRole('button', { name: 'New key' }).click();
    await page.locator('input[name=key]').fill('/ui/made-here');
    await page.locator('textarea[name=value]').fill('{"by":"browser"}');
    await page.getByRole('button', { name: 'Put', exact: true }).click();
    await expect.poll(async () => (await ctl(m.endpoint, ['get', '/ui/made-here'])).stdout).toBe('/ui/made-here\n{"by":"browser"}\n');
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.locator('textarea[name=value]').fill('edited');
    await page.getByRole('button', { name: 'Put', exact: true }).click();
    await expect.poll(async () => (await ctl(m.endpoint, ['get', '/ui/made-here', '--print-value-only'])).stdout).toBe('edited\n');
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(async () => (await ctl(m.endpoint, ['get', '/ui/made-here'])).stdout).toBe('');
    await context.close();
  });

  it('shows a key\'s history back to the compacted revision', async (t) => {
    if (!gateway) return t.skip();
    const revs: number[] = [];
    for (const v of ['v1', 'v2', 'v3', 'v4']) revs.push(Number(JSON.parse((await ctl(m.endpoint, ['put', '/hist/k', v, '-w', 'json'])).stdout).header.revision));
    await ctl(m.endpoint, ['del', '/hist/k']);
    await ctl(m.endpoint, ['put', '/hist/k', 'again']);
    expect((await ctl(m.endpoint, ['compaction', String(revs[1])])).code).toBe(0);
    const { page, context } = await openConsole(browser, ui, { hash: `#/keys?key=${b64url('/hist/k')}` });
    await page.getByRole('button', { name: 'History' }).click();
    const rows = page.locator('section.history tbody tr');
    // Newest first: the put after the delete, the delete, v4, v3, and v2 as the value at the compacted revision.
    await expect.poll(() => rows.count()).toBe(5);
    expect((await rows.allTextContents()).map((r) => r.replace(/^\d+/, ''))).toEqual(['PUT1again', 'DELETE', 'PUT4v4', 'PUT3v3', 'PUT2v2']);
    expect(await page.locator('section.history').textContent()).toContain(`compacted revision ${revs[1]}`);
    await context.close();
  });

  it('live watch sees a ctl put within a second and resumes at the next revision after the member restarts', async (t) => {
    if (!gateway) return t.skip();
    const { page, context } = await openConsole(browser, ui, { hash: `#/watch?key=${b64url('/w/')}&prefix=1` });
    const watchBodies: string[] = [];
    page.on('request', (r) => void (r.url().endsWith('/v3/watch') && watchBodies.push(r.postData() ?? '')));
    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => page.locator('.watch-state').textContent()).toContain('Watching');
    const rows = page.locator('table.events tbody tr');
    // Within a second of the put's acknowledgement (ctl's own start-up is not counted).
    const seen = rows.first().waitFor({ timeout: 10_000 }).then(() => Date.now());
    const put = await ctl(m.endpoint, ['put', '/w/a', 'one', '-w', 'json']);
    const acked = Date.now();
    const rev = Number(JSON.parse(put.stdout).header.revision);
    const lagMs = Math.max(0, (await seen) - acked);
    console.log(`watch: ctl put shown ${lagMs} ms after it was acknowledged`);
    expect(lagMs).toBeLessThan(1000);
    expect(await rows.first().textContent()).toContain(`${rev}PUT/w/aone`);

    // Restart the member: the page reconnects and asks for the revision after the last it saw.
    await m.kill('SIGTERM');
    await expect.poll(() => page.locator('.watch-state').textContent(), { timeout: 10_000 }).toContain('Reconnecting');
    m = await startMember({ kind: 'etcdts', name: 'ui-1', dataDir: m.dataDir, clientPort: Number(new URL(m.clientUrl).port), peerPort: Number(new URL(m.peerUrl).port) });
    await expect.poll(() => page.locator('.watch-state').textContent(), { timeout: 20_000 }).toContain('Watching');
    expect(JSON.parse(watchBodies[watchBodies.length - 1] as string).create_request.start_revision).toBe(String(rev + 1));
    await ctl(m.endpoint, ['put', '/w/a', 'two']);
    await expect.poll(() => rows.count(), { timeout: 5000 }).toBe(2);
    expect(await rows.first().textContent()).toContain('two');
    expect(await page.locator('td.event-prev').first().textContent()).toBe('one');
    await page.getByRole('button', { name: 'Pause' }).click();
    await ctl(m.endpoint, ['put', '/w/a', 'three']);
    await expect.poll(() => page.getByRole('button', { name: /Resume \(1 held\)/ }).count()).toBe(1);
    expect(await rows.count()).toBe(2);
    await page.getByRole('button', { name: /Resume/ }).click();
    expect(await rows.count()).toBe(3);
    await ctl(m.endpoint, ['del', '/w/a']);
    await expect.poll(() => rows.first().textContent()).toMatch(/^\d+DELETE\/w\/a/);
    expect(await page.locator('td.event-prev').first().textContent()).toBe('three');
    await page.getByRole('button', { name: 'Clear' }).click();
    expect(await rows.count()).toBe(0);
    await context.close();
  });

  it('counts a lease down, lists its keys, and revokes it after a confirm', async (t) => {
    if (!gateway) return t.skip();
    const g = await ctl(m.endpoint, ['lease', 'grant', '30']);
    const id = /lease ([0-9a-f]+) granted/.exec(g.stdout)?.[1] as string;
    await ctl(m.endpoint, ['put', '/leased/a', 'x', `--lease=${id}`]);
    const { page, context } = await openConsole(browser, ui, { hash: '#/leases' });
    const row = page.locator(`tr[data-lease="${id.padStart(16, '0')}"]`);
    await row.waitFor();
    const ttl = async () => Number(await row.locator('.ttl').getAttribute('data-ttl'));
    const first = await ttl();
    expect(first).toBeGreaterThan(20);
    await expect.poll(ttl, { timeout: 5000 }).toBeLessThan(first);
    expect(await row.textContent()).toContain('/leased/a');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(async () => (await ctl(m.endpoint, ['get', '/leased/a'])).stdout).toBe('');
    await context.close();
  });

  it('charts writes/s, reads/s and WAL fsync p99 from the member\'s own /metrics', async (t) => {
    if (!gateway) return t.skip();
    const { page, context } = await openConsole(browser, ui, { hash: '#/metrics' });
    await page.getByText("this member's /metrics").waitFor();
    const value = async (title: string) => Number(await page.locator(`[data-metric="${title}"] .big`).textContent());
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const until = Date.now() + 6000;
    for (let i = 0; Date.now() < until; i++) {
      await fetch(`${m.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(`/load/${i % 5}`), value: b64(String(i)) }) });
      await fetch(`${m.clientUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64('/load/0') }) });
    }
    await expect.poll(() => value('Writes/s'), { timeout: 5000 }).toBeGreaterThan(0);
    expect(await value('Reads/s')).toBeGreaterThan(0);
    await expect.poll(() => value('WAL fsync p99 (ms)'), { timeout: 5000 }).toBeGreaterThan(0);
    expect(await value('Leader changes')).toBeGreaterThanOrEqual(1);
    await context.close();
  });

  it('fits a phone-width screen and follows a dark system theme', async (t) => {
    if (!gateway) return t.skip();
    const { page, context } = await openConsole(browser, ui, { viewport: { width: 390, height: 844 }, colorScheme: 'dark', hash: `#/keys?key=${b64url('/registry/ns42/pod-007')}` });
    await page.locator('pre.value').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    const bg = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect(bg).toBe('rgb(21, 24, 28)');
    await screenshot(page, 'keys-phone-dark');
    await context.close();
  });

  // Defined once this build has the Auth service (issue 12); until then the login is proved
  // against etcd 3.4.23 only (console-etcd.test.ts), and no test here is skipped for it.
  if (authServiceBuilt) {
    it('asks for a login when auth is enabled, and works with the token', async (t) => {
      if (!gateway) return t.skip();
      expect((await ctl(m.endpoint, ['user', 'add', 'root', '--new-user-password=rootpw'])).code).toBe(0);
      expect((await ctl(m.endpoint, ['user', 'grant-role', 'root', 'root'])).code).toBe(0);
      expect((await ctl(m.endpoint, ['auth', 'enable'])).code).toBe(0);
      try {
        const { page, context } = await openConsole(browser, ui);
        await page.getByRole('heading', { name: 'Log in' }).waitFor();
        await page.locator('input[name=user]').fill('root');
        await page.locator('input[name=password]').fill('wrong');
        await page.getByRole('button', { name: 'Log in' }).click();
        await expect.poll(() => page.getByRole('alert').textContent()).toContain('authentication failed');
        await page.locator('input[name=password]').fill('rootpw');
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.locator('[role=treeitem]').first().waitFor();
        await page.getByRole('button', { name: 'Log out' }).waitFor();
        await context.close();
      } finally {
        await ctl(m.endpoint, ['--user=root:rootpw', 'auth', 'disable']);
      }
    });
  }
});

describe.skipIf(!hasChromium)('web console on a 3-member etcdts cluster', () => {
  let c: Cluster;
  let browser: Browser;
  let gateway = false;

  beforeAll(async () => {
    [c, browser] = await Promise.all([startCluster('etcdts', { size: 3, names: ['alpha', 'beta', 'gamma'] }), launchBrowser()]);
    gateway = await gatewayOrSkip(`http://${c.endpoint(0)}`);
  });
  afterAll(async () => {
    await browser?.close();
    await c?.stop();
    killAll();
  });

  const roleOf = (page: Page, name: string) => page.locator(`tr[data-member="${name}"]`).getAttribute('data-role');

  it('lists the 3 members with their raft state, and moves the leader from the UI', async (t) => {
    if (!gateway) return t.skip();
    const leader = await c.leader();
    const names = ['alpha', 'beta', 'gamma'];
    const { page, errors, context } = await openConsole(browser, `http://${c.endpoint(0)}/ui/`, { hash: '#/cluster', colorScheme: 'dark' });
    await expect.poll(() => page.locator('table.members tbody tr').count()).toBe(3);
    await expect.poll(() => roleOf(page, names[leader] as string)).toBe('leader');
    for (const n of names) await expect.poll(() => page.locator(`tr[data-member="${n}"]`).textContent()).toContain('healthy');
    await screenshot(page, 'cluster', { readme: true });

    const target = (leader + 1) % 3;
    await page.locator(`tr[data-member="${names[target]}"]`).getByRole('button', { name: 'Make leader' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Move leader' }).click();
    await expect.poll(() => c.leader(), { timeout: 15_000 }).toBe(target);
    await expect.poll(() => roleOf(page, names[target] as string), { timeout: 10_000 }).toBe('leader');
    expect(await roleOf(page, names[leader] as string)).toBe('follower');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a live watch resumes after its member restarts, with the writes made meanwhile through another member', async (t) => {
    if (!gateway) return t.skip();
    const { page, context } = await openConsole(browser, `http://${c.endpoint(2)}/ui/`, { hash: `#/watch?key=${b64url('/missed/')}&prefix=1` });
    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => page.locator('.watch-state').textContent()).toContain('Watching');
    const rows = page.locator('table.events tbody tr');
    await ctl(c.endpoint(0), ['put', '/missed/a', '1']);
    await expect.poll(() => rows.count()).toBe(1);
    await c.kill(2, 'SIGKILL');
    await expect.poll(() => page.locator('.watch-state').textContent(), { timeout: 10_000 }).toContain('Reconnecting');
    await ctl(c.endpoint(0), ['put', '/missed/a', '2']);
    await ctl(c.endpoint(1), ['put', '/missed/b', '3']);
    await c.restart(2);
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(3);
    expect((await rows.allTextContents()).map((r) => r.replace(/^\d+/, ''))).toEqual(['PUT/missed/b3', 'PUT/missed/a21', 'PUT/missed/a1']);
    await context.close();
  });

  it('promotes a learner after a confirm', async (t) => {
    if (!gateway) return t.skip();
    await addAndStart(c, (e, a) => ctl(e, a), c.endpoint(0), 'delta', { learner: true });
    const { page, context } = await openConsole(browser, `http://${c.endpoint(1)}/ui/`, { hash: '#/cluster' });
    await expect.poll(() => roleOf(page, 'delta'), { timeout: 10_000 }).toBe('learner');
    // etcd refuses to promote a learner that has not caught up yet: the page shows that error; try again.
    await expect
      .poll(
        async () => {
          await page.locator('tr[data-member="delta"]').getByRole('button', { name: 'Promote' }).click();
          await page.locator('dialog[open]').getByRole('button', { name: 'Promote' }).click();
          await page.locator('.notice').last().waitFor();
          return page.locator('.notice').last().textContent();
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe('Promoted delta');
    await expect.poll(() => roleOf(page, 'delta'), { timeout: 10_000 }).toBe('follower');
    expect((await ctl(c.endpoint(0), ['member', 'list'])).stdout).toMatch(/delta, http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+, false/);
    await context.close();
  });
});

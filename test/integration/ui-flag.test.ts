/**
 * --ui on real etcdts processes: on by default for loopback listeners (the console's page and
 * script under /ui/ of the client port), off with --ui=false (404, as any unknown path).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startMember } from '../helpers/procs.js';

afterAll(() => killAll());

describe('--ui', () => {
  it('serves the console under /ui/ by default on a loopback listener, and not with --ui=false', async () => {
    const [on, off] = await Promise.all([startMember({ kind: 'etcdts', name: 'ui-on' }), startMember({ kind: 'etcdts', name: 'ui-off', args: ['--ui=false'] })]);
    const page = await fetch(`${on.clientUrl}/ui/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    const js = await fetch(`${on.clientUrl}/ui/app.js`);
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    expect((await fetch(`${off.clientUrl}/ui/`)).status).toBe(404);
    // The rest of the HTTP port is unchanged either way.
    expect((await fetch(`${on.clientUrl}/health`)).status).toBe(200);
    expect((await fetch(`${off.clientUrl}/health`)).status).toBe(200);
  });
});

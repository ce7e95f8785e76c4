/**
 * --ui (etcdts's own flag, issue 15): unset, the console is on exactly when every client
 * listener is loopback (a console that can delete keys is for this machine's user unless asked
 * for); --ui / --ui=true / ETCD_UI=true turn it on anywhere, --ui=false off.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/flags.js';

const at = (urls: string, extra: string[] = [], env: Record<string, string> = {}) =>
  parseConfig(['--listen-client-urls', urls, '--advertise-client-urls', urls.split(',')[0] as string, ...extra], env).config.ui;

describe('--ui', () => {
  it('defaults on for loopback-only listeners', () => {
    expect(parseConfig([], {}).config.ui).toBe(true); // http://localhost:2379
    expect(at('http://127.0.0.1:2379')).toBe(true);
    expect(at('http://127.0.0.2:2379,http://[::1]:2379')).toBe(true);
    expect(at('unix://etcd.sock:0')).toBe(true);
  });

  it('defaults off when any listener is reachable from elsewhere', () => {
    expect(at('http://0.0.0.0:2379')).toBe(false);
    expect(at('http://127.0.0.1:2379,http://10.1.2.3:2379')).toBe(false);
  });

  it('is turned on or off when asked, as a Go bool flag or ETCD_UI', () => {
    expect(at('http://0.0.0.0:2379', ['--ui'])).toBe(true);
    expect(at('http://0.0.0.0:2379', ['--ui=true'])).toBe(true);
    expect(at('http://0.0.0.0:2379', [], { ETCD_UI: 'true' })).toBe(true);
    expect(at('http://127.0.0.1:2379', ['--ui=false'])).toBe(false);
    expect(at('http://127.0.0.1:2379', ['-ui=0'])).toBe(false);
  });
});

/**
 * Flags etcdts acts on, proved with real processes (flag-support.test.ts names this file for
 * them): --backend-batch-interval, --backend-batch-limit, --max-request-bytes, --max-txn-ops, --max-concurrent-streams, --enable-grpc-gateway,
 * --strict-reconfig-check, --log-level, --debug, --log-outputs,
 * --experimental-watch-progress-notify-interval, --experimental-corrupt-check-time,
 * --config-file (YAML, other flags ignored) and --version.
 */
import http2 from 'node:http2';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ctlBin, etcdtsBin, freePort, hasEtcdctl, httpGet, killAll, run, startMember, tempDir, waitFor } from '../helpers/procs.js';

afterAll(() => killAll());

const etcdctl = (ep: string, args: string[]) => run('etcdctl', [`--endpoints=${ep}`, ...args]);

describe('flags that change what etcdts does', () => {
  it.skipIf(!hasEtcdctl)('--max-request-bytes and --max-txn-ops bound requests', async () => {
    const m = await startMember({ kind: 'etcdts', args: ['--max-request-bytes', '1024', '--max-txn-ops', '2'] });
    expect((await etcdctl(m.endpoint, ['put', 'k', 'x'.repeat(2000)])).stderr).toContain('etcdserver: request is too large');
    expect((await etcdctl(m.endpoint, ['put', 'k', 'x'.repeat(100)])).stdout).toBe('OK\n');
    const txn = await run('etcdctl', [`--endpoints=${m.endpoint}`, 'txn'], { input: '\nput a 1\nput b 2\nput c 3\n\n\n' });
    expect(txn.stderr).toContain('etcdserver: too many operations in txn request');
  }, 30_000);

  it('--backend-batch-interval and --backend-batch-limit decide when applied writes reach the backend', async () => {
    const commits = async (url: string): Promise<number> => {
      const m = /^etcd_disk_backend_commit_duration_seconds_count (\d+)$/m.exec((await httpGet(`${url}/metrics`)).body);
      return Number(m?.[1] ?? -1);
    };
    const puts = async (url: string): Promise<void> => {
      for (let i = 0; i < 20; i++) await fetch(`${url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: 'aw==', value: 'dg==' }) });
    };
    const held = await startMember({ kind: 'etcdts', name: 'held', args: ['--backend-batch-interval', '1h', '--backend-batch-limit', '1000000'] });
    const eager = await startMember({ kind: 'etcdts', name: 'eager', args: ['--backend-batch-interval', '1ms', '--backend-batch-limit', '1'] });
    const before = [await commits(held.clientUrl), await commits(eager.clientUrl)];
    await puts(held.clientUrl);
    await puts(eager.clientUrl);
    await new Promise((r) => setTimeout(r, 300));
    const after = [await commits(held.clientUrl), await commits(eager.clientUrl)];
    expect((after[1] as number) - (before[1] as number)).toBeGreaterThanOrEqual(20);
    expect((after[0] as number) - (before[0] as number)).toBeLessThan(5);
  }, 30_000);

  it('--max-concurrent-streams is the HTTP/2 setting clients see', async () => {
    const m = await startMember({ kind: 'etcdts', args: ['--max-concurrent-streams', '7'] });
    const s = http2.connect(m.clientUrl);
    const settings = await new Promise<http2.Settings>((resolve) => s.once('remoteSettings', resolve));
    s.close();
    expect(settings.maxConcurrentStreams).toBe(7);
  }, 30_000);

  it('--enable-grpc-gateway=false takes /v3/ away', async () => {
    const m = await startMember({ kind: 'etcdts', args: ['--enable-grpc-gateway=false'] });
    const r = await fetch(`${m.clientUrl}/v3/kv/range`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(404);
  }, 30_000);

  it.skipIf(!hasEtcdctl)('--strict-reconfig-check=false lets a change through that would leave too few started members', async () => {
    // Two members added to a one-member cluster: the first is allowed either way (etcd's
    // one-started-of-two case), the second would leave 1 started of 3.
    const strict = await startMember({ kind: 'etcdts', name: 's1' });
    const loose = await startMember({ kind: 'etcdts', name: 's2', args: ['--strict-reconfig-check=false'] });
    for (const m of [strict, loose]) expect((await etcdctl(m.endpoint, ['member', 'add', 'x', `--peer-urls=http://127.0.0.1:${await freePort()}`])).stdout).toContain('added to cluster');
    const second = async (ep: string) => (await run('etcdctl', [`--endpoints=${ep}`, '--command-timeout=1s', 'member', 'add', 'y', `--peer-urls=http://127.0.0.1:${await freePort()}`])).stderr;
    expect(await second(strict.endpoint)).toContain('etcdserver: re-configuration failed due to not enough started members');
    // Without the check the change is proposed — and cannot commit without a quorum.
    expect(await second(loose.endpoint)).not.toContain('not enough started members');
  }, 30_000);

  it('--log-level, --debug and --log-outputs decide what is logged and where', async () => {
    const quiet = await startMember({ kind: 'etcdts', name: 'q', args: ['--log-level', 'warn'] });
    expect(quiet.logs.join('')).not.toContain('"level":"info"');
    const loud = await startMember({ kind: 'etcdts', name: 'd', args: ['--debug'] });
    await waitFor('debug line', async () => loud.logs.join('').includes('"level":"debug"'), 5000);
    const file = path.join(tempDir(), 'etcdts.log');
    const toFile = await startMember({ kind: 'etcdts', name: 'f', args: ['--log-outputs', file] });
    expect(toFile.logs.join('')).toBe('');
    await waitFor('log file', async () => readFileSync(file, 'utf8').includes('ready to serve client requests'), 5000);
  }, 30_000);

  it('--experimental-watch-progress-notify-interval sets the progress period', async () => {
    const m = await startMember({ kind: 'etcdts', args: ['--experimental-watch-progress-notify-interval', '300ms'] });
    // etcdctl 3.4 has no --progress-notify; ctl (as etcdctl 3.5) does.
    const r = await run(process.execPath, [ctlBin, `--endpoints=${m.endpoint}`, 'watch', 'k', '--progress-notify'], { timeoutMs: 4000 });
    expect(r.stdout).toMatch(/progress notify: 1\n/);
  }, 30_000);

  it('--experimental-corrupt-check-time starts the periodic check (etcd\'s log line)', async () => {
    const m = await startMember({ kind: 'etcdts', args: ['--experimental-corrupt-check-time', '3s'] });
    expect(m.logs.join('')).toMatch(/"msg":"enabled corruption checking","local-member-id":"[0-9a-f]+","interval":"3s"/);
  }, 30_000);

  it('--config-file: a YAML file of flags, with every other flag and ETCD_* ignored', async () => {
    const dir = tempDir();
    const [c, p] = [await freePort(), await freePort()];
    const file = path.join(dir, 'etcd.conf.yml');
    writeFileSync(
      file,
      [
        'name: from-file',
        `data-dir: ${path.join(dir, 'data')}`,
        `listen-client-urls: http://127.0.0.1:${c}`,
        `advertise-client-urls: http://127.0.0.1:${c}`,
        `listen-peer-urls: http://127.0.0.1:${p}`,
        `initial-advertise-peer-urls: http://127.0.0.1:${p}`,
        `initial-cluster: from-file=http://127.0.0.1:${p}`,
        'max-txn-ops: 3',
        'enable-grpc-gateway: true',
        'unknown-key: ignored',
        '',
      ].join('\n'),
    );
    const { spawn } = await import('node:child_process');
    const proc = spawn(process.execPath, [etcdtsBin, '--config-file', file, '--name', 'ignored'], { env: { ...process.env, ETCD_MAX_TXN_OPS: '1' }, stdio: 'ignore' });
    try {
      await waitFor('member from the file', async () => (await httpGet(`http://127.0.0.1:${c}/health`)).status === 200, 20_000);
      const list = await fetch(`http://127.0.0.1:${c}/v3/cluster/member/list`, { method: 'POST', body: '{}' });
      expect(JSON.stringify(await list.json())).toContain('"name":"from-file"');
      const bad = path.join(dir, 'bad.yml');
      writeFileSync(bad, 'heartbeat-interval: abc\n');
      const r = await run(process.execPath, [etcdtsBin, '--config-file', bad]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('invalid value "abc" for heartbeat-interval');
    } finally {
      proc.kill('SIGKILL');
    }
  }, 30_000);

  it('--version prints the version and exits', async () => {
    const r = await run(process.execPath, [etcdtsBin, '--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^etcdts Version: .*\netcd API Version: 3\.5\.0\n/);
  });
});

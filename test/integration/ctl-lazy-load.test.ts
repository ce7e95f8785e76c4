/**
 * ctl's cold start (issue 13): a command loads only what it uses. `version` loads neither the
 * client nor protobufjs; get/put/del/txn talk to a member through the client's hand codecs
 * (api/kv-wire-client.ts) and HTTP/2 unary calls, without protobufjs or grpc-js; `-w json`
 * loads protobufjs (it prints the wire object through its descriptors), which also shows the
 * check sees protobufjs when it is loaded. No timing here: the modules a command loads are
 * read from a resolve hook (helpers/import-log.mjs), and the bundle's files (dist/ctl/) are
 * mapped back to the modules in them through the bundle's inputs map (scripts/bundle-ctl.mjs).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctlBin, killAll, repoRoot, run, startMember, type MemberProc } from '../helpers/procs.js';

const hook = fileURLToPath(new URL('../helpers/import-log.mjs', import.meta.url));
const bundleDir = path.join(repoRoot, 'dist', 'ctl');
const logDir = mkdtempSync(path.join(os.tmpdir(), 'ctl-imports-'));
let member: MemberProc;

beforeAll(async () => {
  member = await startMember({ kind: 'etcdts' });
});
afterAll(() => {
  killAll();
  rmSync(logDir, { recursive: true, force: true });
});

let logCount = 0;

/** Runs ctl with the args; returns its result and the modules (source paths) it loaded. */
async function ctlModules(args: string[], input?: string): Promise<{ code: number | null; stdout: string; modules: string[] }> {
  const file = path.join(logDir, `run-${logCount++}.log`);
  const r = await run(process.execPath, ['--import', hook, ctlBin, `--endpoints=${member.endpoint}`, ...args], { input, env: { IMPORT_LOG_FILE: file } });
  const urls = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
  const inputsFile = path.join(bundleDir, 'inputs.json');
  const inputs = existsSync(inputsFile) ? (JSON.parse(readFileSync(inputsFile, 'utf8')) as Record<string, string[]>) : {};
  const modules = new Set<string>();
  for (const u of urls) {
    if (!u.startsWith('file:')) {
      modules.add(u);
      continue;
    }
    const p = fileURLToPath(u);
    const inBundle = path.dirname(p) === bundleDir ? inputs[path.basename(p)] : undefined;
    for (const m of inBundle ?? [path.relative(repoRoot, p)]) modules.add(m);
  }
  return { code: r.code, stdout: r.stdout, modules: [...modules] };
}

const protobufjs = (m: string): boolean => /node_modules\/(protobufjs|@grpc\/proto-loader)\//.test(m) || m.endsWith('api/descriptor.js');
const grpcJs = (m: string): boolean => /node_modules\/@grpc\/grpc-js\//.test(m);
const client = (m: string): boolean => m.endsWith('client/client.js');

describe('ctl loads only what a command uses', () => {
  it('version: no client, no protobufjs, no grpc-js', async () => {
    const r = await ctlModules(['version']);
    expect(r.code).toBe(0);
    expect(r.modules.some((m) => m.endsWith('cli/main.js'))).toBe(true);
    expect(r.modules.filter((m) => protobufjs(m) || grpcJs(m) || client(m))).toEqual([]);
  });

  it('put, get, del, txn: the client without protobufjs or grpc-js', async () => {
    const runs = [
      await ctlModules(['put', 'lazy-k', 'v']),
      await ctlModules(['get', 'lazy-k']),
      await ctlModules(['get', '--prefix', 'lazy', '--sort-by=MODIFY', '--order=DESCEND', '-w', 'fields']),
      await ctlModules(['txn'], 'value("lazy-k") = "v"\n\nput lazy-k w\nget lazy-k\n\n\n'),
      await ctlModules(['del', 'lazy-k', '--prev-kv']),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    expect(runs[1]?.stdout).toBe('lazy-k\nv\n');
    expect(runs[3]?.stdout).toBe('SUCCESS\n\nOK\n\nlazy-k\nw\n');
    for (const r of runs) {
      expect(r.modules.some(client)).toBe(true);
      expect(r.modules.filter((m) => protobufjs(m) || grpcJs(m))).toEqual([]);
    }
  });

  it('-w json loads protobufjs (the wire object is printed through its descriptors), still not grpc-js', async () => {
    const r = await ctlModules(['get', 'lazy-none', '-w', 'json']);
    expect(r.code).toBe(0);
    expect(r.modules.some(protobufjs)).toBe(true);
    expect(r.modules.filter(grpcJs)).toEqual([]);
  });
});

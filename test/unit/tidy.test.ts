/**
 * Module boundaries of DESIGN.md, checked on the real import graph of src/: every edge allowed
 * by the table, no import cycle between modules, and src/raft pure (no clock, timer,
 * Math.random, Date or node: import).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/procs.js';

const src = path.join(repoRoot, 'src');

const allowed: Record<string, string[]> = {
  base: [],
  api: ['base'],
  raft: ['base', 'api'],
  storage: ['base', 'api', 'raft'],
  mvcc: ['base', 'api', 'storage', 'lease'],
  lease: ['base', 'api', 'storage'],
  auth: ['base', 'api', 'storage'],
  membership: ['base', 'api', 'storage'],
  peer: ['base', 'api', 'raft'],
  server: ['base', 'api', 'raft', 'storage', 'mvcc', 'lease', 'auth', 'membership', 'peer'],
  rpc: ['base', 'api', 'server'],
  client: ['base', 'api'],
  cli: ['base', 'api', 'client'],
  config: ['base'],
  bin: ['base', 'api', 'config', 'server', 'rpc', 'cli'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function moduleOf(file: string): string {
  return path.relative(src, file).split(path.sep)[0] as string;
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(importRe)].map((m) => (m[1] ?? m[2]) as string);
}

describe('module boundaries (DESIGN.md)', () => {
  const all = files(src);

  it('imports only along edges the module table allows', () => {
    const bad: string[] = [];
    for (const f of all) {
      const from = moduleOf(f);
      for (const spec of imports(f)) {
        if (!spec.startsWith('.')) continue;
        const to = moduleOf(path.resolve(path.dirname(f), spec));
        if (to !== from && !(allowed[from] ?? []).includes(to)) bad.push(`${path.relative(src, f)} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    const edges = new Map<string, Set<string>>();
    for (const f of all) {
      const from = moduleOf(f);
      for (const spec of imports(f)) {
        if (!spec.startsWith('.')) continue;
        const to = moduleOf(path.resolve(path.dirname(f), spec));
        if (to === from) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)?.add(to);
      }
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (m: string, trail: string[]): void => {
      if (state.get(m) === 'done') return;
      if (state.get(m) === 'visiting') {
        cycles.push([...trail, m].join(' → '));
        return;
      }
      state.set(m, 'visiting');
      for (const n of edges.get(m) ?? []) visit(n, [...trail, m]);
      state.set(m, 'done');
    };
    for (const m of edges.keys()) visit(m, []);
    expect(cycles).toEqual([]);
  });

  it('lets rpc/ reach the member only through ServerApi (server/server-api.ts), never the EtcdServer class', () => {
    const bad: string[] = [];
    for (const f of all.filter((x) => moduleOf(x) === 'rpc')) {
      for (const spec of imports(f)) {
        if (spec.startsWith('.') && path.resolve(path.dirname(f), spec) === path.join(src, 'server', 'etcd-server.js')) bad.push(`${path.relative(src, f)} → ${spec}`);
      }
      if (/\bEtcdServer\b/.test(readFileSync(f, 'utf8'))) bad.push(`${path.relative(src, f)}: names EtcdServer`);
    }
    expect(bad).toEqual([]);
  });

  it('keeps src/raft pure: no clock, timer, randomness, Date or node: import', () => {
    const raftFiles = all.filter((f) => moduleOf(f) === 'raft');
    const bad: string[] = [];
    for (const f of raftFiles) {
      const text = readFileSync(f, 'utf8');
      for (const spec of imports(f)) if (spec.startsWith('node:') || !spec.startsWith('.')) bad.push(`${f}: import ${spec}`);
      for (const re of [/\bsetTimeout\b/, /\bsetInterval\b/, /\bsetImmediate\b/, /Math\.random/, /\bDate\b/, /performance\.now/, /process\./]) {
        if (re.test(text)) bad.push(`${f}: ${re}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

#!/usr/bin/env node
// ctl, the etcdctl-compatible CLI (built code lives in dist/; `npm install` builds it). The
// bundle (dist/ctl/, scripts/bundle-ctl.mjs) starts several times faster than the module tree.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node ≥ 22.1 keeps V8's compiled code of the bundle on disk between runs (in the OS temp dir):
// a warm start then skips most parsing. Older nodes lack the call and start as before.
module.enableCompileCache?.();

const bundle = new URL('../dist/ctl/ctl.js', import.meta.url);
await import(existsSync(bundle) ? bundle.href : '../dist/bin/ctl.js');

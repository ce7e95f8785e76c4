#!/usr/bin/env node
// ctl, the etcdctl-compatible CLI (built code lives in dist/; `npm install` builds it). The
// bundle (dist/ctl/, scripts/bundle-ctl.mjs) starts several times faster than the module tree.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/ctl/ctl.js', import.meta.url);
await import(existsSync(bundle) ? bundle.href : '../dist/bin/ctl.js');

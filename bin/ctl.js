#!/usr/bin/env node
// ctl, the etcdctl-compatible CLI (built code lives in dist/; `npm install` builds it).
import '../dist/bin/ctl.js';

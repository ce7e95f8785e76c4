#!/usr/bin/env node
// etcdts server entry point (built code lives in dist/; `npm install` builds it).
import '../dist/bin/etcdts.js';

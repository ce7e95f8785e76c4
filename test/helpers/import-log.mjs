// `node --import <this file>`: appends the URL of every module the process resolves (ESM
// imports, static and dynamic) to the file named by IMPORT_LOG_FILE, one a line. Used to check
// which modules a ctl command loads (test/integration/ctl-lazy-load.test.ts).
import { register } from 'node:module';

register('./import-log-hooks.mjs', import.meta.url, { data: { file: process.env.IMPORT_LOG_FILE } });

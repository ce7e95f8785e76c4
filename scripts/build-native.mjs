/**
 * Builds etcdts's one native addon, native/sd-notify (systemd readiness: node cannot send a
 * unix datagram), with node-gyp against the running node. Run by `npm install` (the package's
 * install script). A machine without a C compiler still installs etcdts: the build failure is
 * reported here, and etcdts then says at start, when NOTIFY_SOCKET is set, that it cannot notify.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'native', 'sd-notify');
// npm puts its own node-gyp on PATH for lifecycle scripts; outside npm, use npm's bundled copy.
const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
// The headers of the running node, where node keeps them beside itself (Debian's /usr, the official
// tarballs): node-gyp would otherwise download them.
const prefix = path.join(path.dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : '');
const gypArgs = ['rebuild', ...(nodedir !== '' ? [`--nodedir=${nodedir}`] : [])];
const [cmd, args] = existsSync(bundled) ? [process.execPath, [bundled, ...gypArgs]] : ['node-gyp', gypArgs];
const r = spawnSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  process.stderr.write(`etcdts: could not build native/sd-notify (${r.error?.message ?? `node-gyp exited ${r.status}`}); NOTIFY_SOCKET readiness will not be reported\n${r.stderr ?? ''}\n`);
}

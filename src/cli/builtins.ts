/**
 * Node's built-in modules that only some ctl commands use, loaded on first use: importing them
 * at the top of a command file would load them (and their own dependencies: tls, crypto,
 * child_process, …) for every command, `ctl version` included (cold start, issue 13).
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const nodeTls = (): typeof import('node:tls') => load('node:tls') as typeof import('node:tls');
export const nodeCrypto = (): typeof import('node:crypto') => load('node:crypto') as typeof import('node:crypto');
export const nodeChildProcess = (): typeof import('node:child_process') => load('node:child_process') as typeof import('node:child_process');
export const nodeFsPromises = (): typeof import('node:fs/promises') => load('node:fs/promises') as typeof import('node:fs/promises');

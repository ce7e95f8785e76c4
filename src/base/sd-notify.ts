/**
 * systemd readiness (sd_notify), as etcd does it (etcdmain notifySystemd → go-systemd
 * daemon.SdNotify(false, "READY=1")): when NOTIFY_SOCKET is set, one datagram with the state text
 * goes to that unix socket (a leading '@' names an abstract socket) once the member has joined
 * its cluster, so `Type=notify` units start their dependants only then. Unset: nothing is sent.
 *
 * Node cannot send a unix datagram (its dgram module speaks UDP only, node:net streams only), so
 * the sending is a small native addon of our own (native/sd-notify, built by `npm install`); a
 * machine that could not build it gets a clear error here, never a silent success.
 */
import { createRequire } from 'node:module';

export class SdNotifyError extends Error {
  override name = 'SdNotifyError';
}

interface Addon {
  notify(address: string, message: Buffer): void;
}

let addon: Addon | null | undefined;

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  try {
    // dist/base/ and src/base/ are both two levels below the package root.
    addon = createRequire(import.meta.url)('../../native/sd-notify/build/Release/sd_notify.node') as Addon;
  } catch {
    addon = null;
  }
  return addon;
}

/** The ready state etcd sends (go-systemd SdNotifyReady). */
export const sdNotifyReady = 'READY=1';

/**
 * Sends `state` to $NOTIFY_SOCKET: false when the variable is unset or empty (nothing to do), true
 * once sent; an SdNotifyError says why it could not be (Go's words for socket errors).
 */
export function sdNotify(state: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const address = env.NOTIFY_SOCKET ?? '';
  if (address === '') return false;
  const a = loadAddon();
  if (a === null) throw new SdNotifyError('cannot send to NOTIFY_SOCKET: the native addon native/sd-notify was not built (run `node scripts/build-native.mjs`; it needs a C compiler)');
  try {
    a.notify(address, Buffer.from(state));
  } catch (e) {
    throw new SdNotifyError(e instanceof Error ? e.message : String(e));
  }
  return true;
}

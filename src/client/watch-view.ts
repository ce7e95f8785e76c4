/** Watch helpers that need no gRPC library (ctl imports them at start). */
import type { WatchResponseView } from './watch.js';

/** clientv3 IsProgressNotify. */
export function isProgressNotify(r: WatchResponseView): boolean {
  return r.events.length === 0 && !r.canceled && !r.created && r.compact_revision === 0n && r.header.revision !== 0n;
}

/**
 * Defaults of the transport's named limits (TransportLimits) and their resolution.
 */
import { assert } from '../base/assert.js';
import type { TransportLimits } from './transport.js';

const MiB = 1024 * 1024;

export const transportDefaults: Required<TransportLimits> = {
  // etcd's rafthttp streamBufSize.
  queueMessagesMax: 4096,
  // Several maxSizePerMsg (1 MiB) appends can wait; more means the peer is far behind anyway.
  queueBytesMax: 64 * MiB,
  batchBytesMax: 4 * MiB,
  // Room for a batch plus one oversized entry (--max-request-bytes can be raised).
  frameBytesMax: 128 * MiB,
  snapshotChunkBytes: 1 * MiB,
  snapshotTimeoutMs: 10 * 60_000,
  // etcd's peer dial timeout is 1 s; a busy 2-core machine needs some slack.
  dialTimeoutMs: 3000,
  backoffBaseMs: 100,
  backoffMaxMs: 2000,
  keepaliveMs: 5000,
  keepaliveTimeoutMs: 5000,
};

export function resolveLimits(opts: TransportLimits): Required<TransportLimits> {
  const out = { ...transportDefaults };
  for (const k of Object.keys(transportDefaults) as (keyof TransportLimits)[]) {
    const v = opts[k];
    if (v !== undefined) out[k] = v;
    assert(Number.isFinite(out[k]) && out[k] > 0, `transport limit ${k} must be positive: ${out[k]}`);
  }
  assert(out.batchBytesMax <= out.frameBytesMax, 'batchBytesMax must not exceed frameBytesMax');
  assert(out.snapshotChunkBytes < out.frameBytesMax, 'snapshotChunkBytes must be below frameBytesMax');
  assert(out.backoffBaseMs <= out.backoffMaxMs, 'backoffBaseMs must not exceed backoffMaxMs');
  return out;
}

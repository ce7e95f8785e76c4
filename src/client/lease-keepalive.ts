/**
 * Lease keepalive over the LeaseKeepAlive stream, as clientv3's lease.go behaves:
 *
 * - `keepAliveOnce`: one request, one response; a TTL ≤ 0 answer means the lease is gone and
 *   fails with etcd's "requested lease not found".
 * - `keepAlive`: sends at once, then again TTL/3 after every answer; every answer is reported;
 *   ends (resolves) when an answer says TTL ≤ 0 (expired or revoked) or when no answer came
 *   before the lease's last known TTL ran out. A broken stream is reopened after 500 ms.
 *
 * Invariants: at most one stream open per loop; every timer is cleared when the loop ends.
 */
import { toDomain } from '../api/convert.js';
import { Errors } from '../api/errors.js';
import type { EtcdClient } from './client.js';
import { ClientError } from './errors.js';
import type { CallResult, LeaseKeepAlive, WireMessage } from './types.js';

const respType = 'etcdserverpb.LeaseKeepAliveResponse';
/** clientv3 retryConnWait. */
const reopenPauseMs = 500;
/** How often the loop checks whether the lease outlived its last answer (clientv3: 500 ms). */
const deadlineCheckMs = 500;

function result(raw: WireMessage): CallResult<LeaseKeepAlive> {
  return { type: respType, raw, resp: toDomain<LeaseKeepAlive>(respType, raw) };
}

function notFound(): ClientError {
  return new ClientError(Errors.LeaseNotFound.code, Errors.LeaseNotFound.message);
}

export async function keepAliveOnce(client: EtcdClient, id: bigint): Promise<CallResult<LeaseKeepAlive>> {
  const stream = await client.leaseKeepAliveStream();
  try {
    const raw = await new Promise<WireMessage>((resolve, reject) => {
      stream.once('data', (m: WireMessage) => resolve(m));
      stream.once('error', (e: { code?: number; details?: string; message?: string }) =>
        reject(new ClientError(e.code ?? 2, e.details ?? e.message ?? String(e))),
      );
      stream.once('end', () => reject(new ClientError(14, 'keepalive stream closed')));
      stream.write({ ID: id.toString() });
    });
    const r = result(raw);
    if (r.resp.TTL <= 0n) throw notFound();
    return r;
  } finally {
    stream.cancel();
  }
}

export interface KeepAliveOptions {
  /** Longest wait for the first answer (clientv3: dial timeout + 1 s). */
  firstAnswerTimeoutMs: number;
  /** Stops the loop from outside (e.g. on SIGINT). */
  signal?: AbortSignal;
}

/** Keeps `id` alive until it expires or is revoked; calls onAnswer for every answer. */
export function keepAlive(
  client: EtcdClient,
  id: bigint,
  onAnswer: (r: CallResult<LeaseKeepAlive>) => void,
  opts: KeepAliveOptions,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let deadline = Date.now() + opts.firstAnswerTimeoutMs;
    let stream: Awaited<ReturnType<EtcdClient['leaseKeepAliveStream']>> | null = null;
    let sendTimer: NodeJS.Timeout | null = null;
    let reopenTimer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(checker);
      if (sendTimer) clearTimeout(sendTimer);
      if (reopenTimer) clearTimeout(reopenTimer);
      stream?.cancel();
      resolve();
    };
    const checker = setInterval(() => {
      if (Date.now() > deadline) finish();
    }, deadlineCheckMs);
    opts.signal?.addEventListener('abort', finish);
    const send = (): void => {
      sendTimer = null;
      if (!done && stream) stream.write({ ID: id.toString() });
    };
    const reopen = (): void => {
      if (done || reopenTimer) return;
      stream?.cancel();
      stream = null;
      if (sendTimer) clearTimeout(sendTimer);
      sendTimer = null;
      reopenTimer = setTimeout(() => {
        reopenTimer = null;
        void open();
      }, reopenPauseMs);
    };
    const open = async (): Promise<void> => {
      if (done) return;
      let s: typeof stream;
      try {
        s = await client.leaseKeepAliveStream();
      } catch {
        reopen();
        return;
      }
      if (done) {
        // Cancelling emits 'error' (CANCELLED) on the stream: with no listener that is an
        // unhandled 'error' event, which ended `ctl lock` as it exited (a stream that opened
        // just after the lock was released).
        s.on('error', () => undefined);
        s.cancel();
        return;
      }
      stream = s;
      s.on('data', (raw: WireMessage) => {
        if (done || stream !== s) return;
        const r = result(raw);
        if (r.resp.TTL <= 0n) {
          finish();
          return;
        }
        onAnswer(r);
        const ttlMs = Number(r.resp.TTL) * 1000;
        deadline = Date.now() + ttlMs;
        if (sendTimer) clearTimeout(sendTimer);
        sendTimer = setTimeout(send, ttlMs / 3);
      });
      s.on('error', () => {
        if (stream === s) reopen();
      });
      s.on('end', () => {
        if (stream === s) reopen();
      });
      send();
    };
    void open();
  });
}

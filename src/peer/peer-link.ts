/**
 * The sending side towards one peer: a bounded queue of encoded messages, the one long-lived
 * Stream call that carries them in batches, the reconnect loop, snapshot calls and requests.
 *
 * States: dialing → (stream open, waiting for the peer's response headers) → active → broken →
 * backoff → dialing ... until close(). Invariants:
 * - At most one Stream call exists (`call`); callbacks of a superseded call are ignored.
 * - `activeSince` is set only while the current call has been accepted by the peer (its headers
 *   arrived) and has not ended.
 * - At most one batch is being written; while it is, new messages wait in the queue and go out
 *   together in the next batch (natural batching under load, no added latency when idle).
 * - The queue never holds more than queueMessagesMax messages or queueBytesMax bytes. When full,
 *   the NEW message is dropped (as etcd's stream writer does when its buffer is full): what is
 *   queued stays a gap-free prefix of what was sent, and reportUnreachable makes the leader stop
 *   pipelining to this peer (probe state), so a slow peer gets a trickle, not a pile of
 *   heartbeats. Raft re-sends whatever it still needs.
 * - A dial that fails, or a stream that breaks, while messages wait drops them and reports the
 *   peer unreachable once; a stream that was active and breaks reports it too.
 * - A refusal (FAILED_PRECONDITION) is logged once per streak of refusals, not per retry; the
 *   link keeps retrying with backoff (the peer may learn about us later).
 */
import * as grpc from '@grpc/grpc-js';
import { assert } from '../base/assert.js';
import { idField, type Logger } from '../base/logger.js';
import { MessageType, type Message } from '../raft/types.js';
import { Backoff } from './backoff.js';
import { decodeReply, encodeRequest, encodeSnapshotFrame, frameBatch, batchItemBytes } from './codec.js';
import { PeerRequestError, PeerUnavailableError } from './errors.js';
import { identityMetadata, mdRequestError } from './identity.js';
import { deserialize, dialTarget, grpcOptions, requestPath, serialize, snapshotPath, streamPath } from './service.js';
import type { TransportLimits } from './transport.js';
import type { Rand } from '../base/random.js';

export interface LinkContext {
  memberId: bigint;
  clusterId: bigint;
  limits: Required<TransportLimits>;
  logger: Logger;
  random: Rand;
  /** Credentials for dialing a peer URL (credentials.ts: TLS for https://). */
  credentials(url: string): grpc.ChannelCredentials;
  /** Why a URL cannot be reached when TLS is the reason (credentials.ts diagnosePeerTls). */
  diagnose?(url: string): Promise<string | undefined>;
  /** Deferred and de-duplicated by the transport. */
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
}

interface SnapshotSend {
  cancel(reason: string): void;
}

export class PeerLink {
  private urls: string[];
  private urlIndex = 0;
  private client: grpc.Client | undefined;
  private call: grpc.ClientWritableStream<Buffer> | undefined;
  private since: Date | undefined;
  private writing = false;
  private queue: Uint8Array[] = [];
  private head = 0;
  private queueBytes = 0;
  private pumpScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Bumped by every dial, so late callbacks of an older attempt are ignored. */
  private attempt = 0;
  private refusalLogged = false;
  private failureLogged = false;
  private failureLoggedWhy = '';
  private overflowLogged = false;
  private readonly backoff: Backoff;
  private readonly snapshots = new Set<SnapshotSend>();
  private readonly options: grpc.ChannelOptions;
  /** Counters for tests and metrics. */
  readonly stats = { framesSent: 0, messagesSent: 0, dropped: 0 };

  constructor(
    private readonly ctx: LinkContext,
    readonly id: bigint,
    urls: string[],
  ) {
    assert(urls.length > 0, `peer ${idField(id)} has no URL`);
    this.urls = [...urls];
    this.backoff = new Backoff(ctx.limits.backoffBaseMs, ctx.limits.backoffMaxMs, ctx.random);
    this.options = grpcOptions(ctx.limits);
    this.dial();
  }

  activeSince(): Date | undefined {
    return this.since;
  }

  queuedMessages(): number {
    return this.queue.length - this.head;
  }

  setUrls(urls: string[]): void {
    assert(urls.length > 0, `peer ${idField(this.id)} has no URL`);
    if (urls.length === this.urls.length && urls.every((u, i) => u === this.urls[i])) return;
    this.urls = [...urls];
    this.urlIndex = 0;
    // Reconnect to the new address now; what is queued stays queued.
    this.teardown();
    this.backoff.reset();
    if (!this.closed) this.dial();
  }

  /** Queues one encoded message; false when the queue is full (the caller reports unreachable). */
  enqueue(body: Uint8Array): boolean {
    const l = this.ctx.limits;
    if (this.queuedMessages() >= l.queueMessagesMax || this.queueBytes + body.length > l.queueBytesMax) {
      if (!this.overflowLogged) {
        this.overflowLogged = true;
        this.ctx.logger.warn('dropped internal Raft message since sending buffer is full (overloaded network)', {
          'local-member-id': idField(this.ctx.memberId),
          'remote-peer-id': idField(this.id),
          'queued-messages': this.queuedMessages(),
          'queued-bytes': this.queueBytes,
        });
      }
      this.stats.dropped++;
      return false;
    }
    this.queue.push(body);
    this.queueBytes += body.length;
    this.schedulePump();
    return true;
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.since === undefined) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private dropQueue(): number {
    const n = this.queuedMessages();
    this.queue = [];
    this.head = 0;
    this.queueBytes = 0;
    return n;
  }

  private pump(): void {
    const call = this.call;
    if (call === undefined || this.since === undefined || this.writing || this.queuedMessages() === 0) return;
    const bodies: Uint8Array[] = [];
    let bytes = 0;
    while (this.head < this.queue.length) {
      const b = this.queue[this.head] as Uint8Array;
      const n = batchItemBytes(b);
      if (bodies.length > 0 && bytes + n > this.ctx.limits.batchBytesMax) break;
      bodies.push(b);
      bytes += n;
      this.queueBytes -= b.length;
      this.head++;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.overflowLogged = false;
    this.writing = true;
    this.stats.framesSent++;
    this.stats.messagesSent += bodies.length;
    // The callback runs once HTTP/2 took the frame (flow control included): a stalled peer
    // stops it, and the queue bound takes over.
    call.write(frameBatch(bodies), (err: Error | null | undefined) => {
      if (this.call !== call) return;
      this.writing = false;
      if (!err) this.pump();
    });
  }

  private ensureClient(): grpc.Client {
    if (this.client === undefined) {
      const url = this.urls[this.urlIndex % this.urls.length] as string;
      this.client = new grpc.Client(dialTarget(url), this.ctx.credentials(url), this.options);
    }
    return this.client;
  }

  private metadata(): grpc.Metadata {
    return identityMetadata({ clusterId: this.ctx.clusterId, from: this.ctx.memberId, to: this.id });
  }

  private dial(): void {
    if (this.closed) return;
    const attempt = ++this.attempt;
    const client = this.ensureClient();
    const channel = client.getChannel();
    const deadline = Date.now() + this.ctx.limits.dialTimeoutMs;
    // Unlike waitForReady, a refused connection fails this attempt at once instead of waiting
    // out the deadline; the deadline bounds a connection that hangs (dialTimeoutMs).
    const check = (): void => {
      if (this.closed || attempt !== this.attempt) return;
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) return this.openStream(client, attempt);
      if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
        return this.failed('dial: connection failed', false);
      }
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err) {
          if (!this.closed && attempt === this.attempt) this.failed('dial: timed out', false);
          return;
        }
        check();
      });
    };
    check();
  }

  private openStream(client: grpc.Client, attempt: number): void {
    const call = client.makeClientStreamRequest<Buffer, Buffer>(streamPath, serialize, deserialize, this.metadata(), {}, (err) => {
      if (this.call !== call || attempt !== this.attempt) return;
      this.call = undefined;
      const wasActive = this.since !== undefined;
      this.since = undefined;
      this.writing = false;
      if (err?.code === grpc.status.FAILED_PRECONDITION) return this.failed(`refused: ${err.details}`, true, wasActive);
      this.failed(err ? `stream: ${err.details || err.message}` : 'stream ended by the peer', false, wasActive);
    });
    call.on('error', () => undefined); // the status callback above handles every failure
    // A peer that takes the call but neither accepts nor refuses it is as good as unreachable.
    const acceptTimer = setTimeout(() => {
      if (this.call !== call || this.since !== undefined) return;
      this.call = undefined;
      call.cancel();
      this.failed('stream: not accepted in time', false);
    }, this.ctx.limits.dialTimeoutMs);
    acceptTimer.unref();
    call.on('status', () => clearTimeout(acceptTimer));
    call.on('metadata', () => {
      clearTimeout(acceptTimer);
      if (this.call !== call) return;
      this.since = new Date();
      this.backoff.reset();
      this.refusalLogged = false;
      this.failureLogged = false;
      this.ctx.logger.info('peer became active', { 'local-member-id': idField(this.ctx.memberId), 'peer-id': idField(this.id) });
      this.pump();
    });
    this.call = call;
  }

  /** One failed attempt or a broken stream: report, forget the connection, retry after backoff. */
  private failed(why: string, refused: boolean, wasActive = false): void {
    if (this.closed) return;
    const fields = { 'local-member-id': idField(this.ctx.memberId), 'remote-peer-id': idField(this.id), error: why };
    if (wasActive) this.ctx.logger.warn('peer became inactive (message send to peer failed)', fields);
    else if (refused && !this.refusalLogged) {
      this.refusalLogged = true;
      this.ctx.logger.warn('peer refused our stream', fields);
    } else if (!refused) {
      const url = this.urls[this.urlIndex % this.urls.length] as string;
      const log = (error: string): void => {
        // Once per streak of failures, and again when the reason changes.
        if (this.closed || (this.failureLogged && this.failureLoggedWhy === error)) return;
        this.failureLogged = true;
        this.failureLoggedWhy = error;
        this.ctx.logger.warn('failed to reach peer', { ...fields, error, url });
      };
      // grpc-js says only that the connection failed; a TLS refusal deserves its reason.
      if (this.ctx.diagnose === undefined || !url.startsWith('https:')) log(why);
      else void this.ctx.diagnose(url).then((tlsWhy) => log(tlsWhy ?? why));
    }
    if (refused) this.failureLogged = false;
    else this.refusalLogged = false;
    const dropped = this.dropQueue();
    this.stats.dropped += dropped;
    if (wasActive || dropped > 0) this.ctx.reportUnreachable(this.id);
    this.teardown();
    // Next attempt: the next URL of the peer, if it has several.
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    const delay = this.backoff.next();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dial();
    }, delay);
    this.timer.unref();
  }

  /** Forgets the current call and connection (no report). */
  private teardown(): void {
    this.attempt++;
    const call = this.call;
    this.call = undefined;
    this.since = undefined;
    this.writing = false;
    call?.cancel();
    this.client?.close();
    this.client = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropQueue();
    for (const s of [...this.snapshots]) s.cancel('peer removed or transport stopped');
    this.teardown();
  }

  /** A snapshot on its own call and connection; reportSnapshot exactly once. */
  sendSnapshot(msg: Message, data: () => AsyncIterable<Uint8Array>): void {
    assert(msg.type === MessageType.Snap && msg.to === this.id, 'sendSnapshot takes a MsgSnap for this peer');
    const l = this.ctx.limits;
    const url = this.urls[this.urlIndex % this.urls.length] as string;
    const client = new grpc.Client(dialTarget(url), this.ctx.credentials(url), this.options);
    let finished = false;
    let onEnd: (e: Error) => void = () => undefined;
    const ended = new Promise<never>((_, reject) => (onEnd = reject));
    ended.catch(() => undefined);
    const finish = (ok: boolean, why?: string): void => {
      if (finished) return;
      finished = true;
      this.snapshots.delete(handle);
      onEnd(new Error(why ?? 'snapshot call ended'));
      client.close();
      if (!ok) this.ctx.logger.warn('failed to send database snapshot', { 'remote-peer-id': idField(this.id), index: msg.snapshot?.metadata.index, error: why });
      else this.ctx.logger.info('sent database snapshot', { 'remote-peer-id': idField(this.id), index: msg.snapshot?.metadata.index });
      this.ctx.reportSnapshot(this.id, ok);
    };
    const call = client.makeClientStreamRequest<Buffer, Buffer>(snapshotPath, serialize, deserialize, this.metadata(), { deadline: Date.now() + l.snapshotTimeoutMs }, (err) =>
      finish(!err, err ? err.details || err.message : undefined),
    );
    call.on('error', () => undefined);
    const handle: SnapshotSend = {
      cancel: (reason) => {
        call.cancel();
        finish(false, reason);
      },
    };
    this.snapshots.add(handle);
    const write = (frame: Buffer): Promise<void> =>
      Promise.race([
        ended,
        new Promise<void>((resolve, reject) => call.write(frame, (e: Error | null | undefined) => (e ? reject(e) : resolve()))),
      ]);
    const pushAll = async (): Promise<void> => {
      await write(encodeSnapshotFrame({ kind: 'message', message: msg }));
      for await (const piece of data()) {
        for (let off = 0; off < piece.length; off += l.snapshotChunkBytes) {
          if (finished) return;
          await write(encodeSnapshotFrame({ kind: 'chunk', chunk: piece.subarray(off, off + l.snapshotChunkBytes) }));
        }
      }
      await write(encodeSnapshotFrame({ kind: 'done' }));
      call.end();
    };
    pushAll().catch((e: unknown) => {
      if (finished) return;
      call.cancel();
      finish(false, e instanceof Error ? e.message : String(e));
    });
  }

  request(kind: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const client = this.ensureClient();
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest<Buffer, Buffer>(requestPath, serialize, deserialize, encodeRequest({ kind, body }), this.metadata(), { deadline: Date.now() + timeoutMs }, (err, reply) => {
        if (!err) return resolve(decodeReply(reply ?? Buffer.alloc(0)));
        if (err.metadata?.get(mdRequestError).length) return reject(new PeerRequestError(err.details));
        const refused = err.code === grpc.status.FAILED_PRECONDITION;
        reject(new PeerUnavailableError(`peer ${idField(this.id)}: ${err.details || err.message}`, refused));
      });
    });
  }
}

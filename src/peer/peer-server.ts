/**
 * The receiving side: listens on every --listen-peer-urls and serves the peer protocol
 * (frames.ts) on each connection: a Raft message stream, a snapshot, requests, or the member
 * list, as the connection's HELLO says.
 *
 * Invariants:
 * - Every connection is identified by its HELLO first (identity.ts); a refused one gets REFUSE
 *   with etcd's reason and is closed, and nothing of it reaches the handler. Refusals are
 *   logged once per (sender, reason) streak (base/log-once.ts: a bounded memory, so forged
 *   sender ids cannot grow it). A connection that sends no HELLO in time, or a
 *   malformed frame, is closed.
 * - At most one Stream connection per sender is kept (a newer one from the same sender closes
 *   the older, which the sender already gave up).
 * - Only messages addressed to us, of a non-local type other than MsgSnap, from the stream's
 *   sender or relayed by it for another known member (identity.ts isRelayable: a proposal,
 *   ReadIndex or TransferLeader keeps its first sender, as in etcd's raft) reach handler.process;
 *   MsgSnap arrives only on a Snapshot connection, and process(msg) runs only after
 *   receiveSnapshot resolved; the RESULT follows process.
 * - A snapshot's data iterable ends normally only after the sender's `done` frame; a connection
 *   cut short makes it throw, so a truncated snapshot is never taken as complete.
 * - removeSender(id) ends that sender's open connections; later ones from it are refused.
 */
import net from 'node:net';
import tls from 'node:tls';
import { LogOnce } from '../base/log-once.js';
import { idField, type Logger } from '../base/logger.js';
import { RemoteAddresses, tlsErrorText, tlsServerOptions, verifyClient, type TlsMaterial } from '../base/tls.js';
import { MessageType, type Message } from '../raft/types.js';
import { decodeBatch, decodeRequest, decodeSnapshotFrame } from './codec.js';
import { PeerListenError } from './errors.js';
import { FrameKind, FrameReader, Purpose, decodeHello, encodeReply, encodeResult, frame, peerAddress, PeerFrameError } from './frames.js';
import { belongsOnStream, checkIdentity, type LocalIdentity } from './identity.js';
import type { PeerHandler, TransportLimits } from './transport.js';

export interface ServerContext extends LocalIdentity {
  limits: Required<TransportLimits>;
  logger: Logger;
  handler: PeerHandler;
  /** False once the transport is stopping: nothing more reaches the handler. */
  live(): boolean;
  /** Peer TLS for the https:// listen URLs (null: none configured). */
  tls: TlsMaterial | null;
}

interface Listening {
  server: net.Server;
  sockets: Set<net.Socket>;
}

/** A queue of frames that an async consumer reads (the snapshot's data). */
class FrameQueue {
  private items: Buffer[] = [];
  private waiter: ((v: Buffer | null) => void) | null = null;
  private ended = false;

  push(b: Buffer): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(b);
    } else this.items.push(b);
  }

  end(): void {
    this.ended = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
  }

  /** The next frame, or null once the connection ended. */
  next(): Promise<Buffer | null> {
    const b = this.items.shift();
    if (b !== undefined) return Promise.resolve(b);
    if (this.ended) return Promise.resolve(null);
    return new Promise((r) => (this.waiter = r));
  }

  get length(): number {
    return this.items.length;
  }
}

export class PeerServer {
  private readonly listening: Listening[] = [];
  /** The open Stream connection of each sender, by member id. */
  private readonly streams = new Map<bigint, net.Socket>();
  private readonly bySender = new Map<bigint, Set<net.Socket>>();
  /** Refused senders (by id) and reasons logged this streak (bounded: senders come from the network). */
  private readonly refusalsLogged = new LogOnce<string>();
  /** TLS refusals logged, by remote host and error. */
  private readonly tlsRefusalsLogged = new LogOnce<string>();
  /** Senders and message types whose misplaced messages were logged. */
  private readonly droppedLogged = new LogOnce<string>();
  /** Counters for tests and metrics. */
  readonly stats = { framesReceived: 0, messagesReceived: 0 };

  constructor(private readonly ctx: ServerContext) {}

  async listen(urls: string[]): Promise<void> {
    for (const raw of urls) {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new PeerListenError(`invalid peer URL ${JSON.stringify(raw)}`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PeerListenError(`unsupported peer URL scheme ${JSON.stringify(u.protocol.replace(/:$/, ''))} in ${raw} (http or https only)`);
      const { host, port } = peerAddress(raw);
      const material = this.ctx.tls;
      if (u.protocol === 'https:' && material === null) throw new PeerListenError(`cannot listen on TLS for ${host}:${port}: KeyFile and CertFile are not presented`);
      if (u.protocol === 'http:' && material !== null) {
        this.ctx.logger.warn('scheme is HTTP while key and cert files are present; ignoring key and cert files', { 'peer-url': raw.replace(/\/$/, '') });
      }
      const sockets = new Set<net.Socket>();
      const track = (socket: net.Socket): void => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      };
      // Peer TLS: the handshake (and the CN / host name check) first; a peer that fails it never
      // reaches the peer protocol.
      const viaTls = u.protocol === 'https:' && material !== null ? this.tlsServer(material, track) : null;
      const server = net.createServer((socket) => {
        track(socket);
        if (viaTls === null) return this.serve(socket);
        socket.on('error', () => socket.destroy());
        viaTls.remotes.note(socket);
        viaTls.server.emit('connection', socket);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) => {
          const why = e.code === 'EADDRINUSE' ? 'bind: address already in use' : e.code === 'EADDRNOTAVAIL' ? 'bind: cannot assign requested address' : e.message;
          reject(new PeerListenError(`listen tcp ${host.includes(':') ? `[${host}]` : host}:${port}: ${why}`));
        });
        server.listen(port, host, () => resolve());
      });
      this.listening.push({ server, sockets });
      this.ctx.logger.info('serving peer traffic', { 'local-member-id': idField(this.ctx.memberId), address: `${host}:${port}` });
    }
  }

  /** A TLS server (never listening itself) that hands verified connections to serve(). */
  private tlsServer(material: TlsMaterial, track: (s: net.Socket) => void): { server: tls.Server; remotes: RemoteAddresses } {
    const remotes = new RemoteAddresses();
    const server = tls.createServer(tlsServerOptions(material, true));
    const reject = (remote: string, error: string): void => {
      // Once per remote host and reason: a member with a wrong certificate redials every few seconds.
      if (!this.tlsRefusalsLogged.first(remote.replace(/:\d+$/, ''), error)) return;
      this.ctx.logger.warn('rejected connection', { 'remote-addr': remote, 'server-name': '', error });
    };
    server.on('secureConnection', (s: tls.TLSSocket) => {
      track(s);
      const refused = verifyClient(material, s);
      if (refused !== undefined) {
        reject(remotes.of(s), refused);
        s.destroy();
        return;
      }
      this.serve(s);
    });
    server.on('tlsClientError', (err: Error, s: tls.TLSSocket) => {
      reject(remotes.of(s), tlsErrorText(err));
      s.destroy();
    });
    return { server, remotes };
  }

  /** The ports actually bound, in --listen-peer-urls order (useful with port 0). */
  ports(): number[] {
    return this.listening.map((l) => {
      const a = l.server.address();
      return typeof a === 'object' && a !== null ? a.port : 0;
    });
  }

  removeSender(id: bigint): void {
    for (const s of this.bySender.get(id) ?? []) {
      s.end(frame(FrameKind.Refuse, Buffer.from('the member has been permanently removed from the cluster')));
      s.destroySoon();
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.listening.splice(0).map(
        (l) =>
          new Promise<void>((resolve) => {
            for (const s of l.sockets) s.destroy();
            l.server.close(() => resolve());
          }),
      ),
    );
  }

  /** One connection: HELLO first, then the purpose's frames. */
  private serve(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.ctx.limits.keepaliveMs);
    socket.on('error', () => socket.destroy());
    const reader = new FrameReader(this.ctx.limits.frameBytesMax);
    let onFrame: ((kind: number, payload: Buffer) => void) | null = null;
    let onClose: (() => void) | null = null;
    const helloTimer = setTimeout(() => socket.destroy(), this.ctx.limits.dialTimeoutMs);
    helloTimer.unref();
    const fail = (why: string): void => {
      reader.stop();
      this.ctx.logger.warn('malformed peer connection', { 'remote-address': `${socket.remoteAddress}:${socket.remotePort}`, error: why });
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (kind, payload) => {
          if (onFrame !== null) return onFrame(kind, payload);
          clearTimeout(helloTimer);
          if (kind !== FrameKind.Hello) throw new PeerFrameError(`first frame of type ${kind}, not HELLO`);
          const h = decodeHello(payload);
          const handlers = this.open(socket, h.purpose, { clusterId: h.clusterId, from: h.from, to: h.to });
          if (handlers === null) {
            reader.stop();
            return;
          }
          onFrame = handlers.frame;
          onClose = handlers.close;
        });
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e));
      }
    });
    socket.once('close', () => {
      clearTimeout(helloTimer);
      onClose?.();
    });
  }

  /** Checks the caller, answers ACCEPT or REFUSE, and returns the connection's frame handlers. */
  private open(socket: net.Socket, purpose: number, id: { clusterId: bigint; from: bigint; to: bigint }): { frame(kind: number, p: Buffer): void; close(): void } | null {
    if (purpose === Purpose.Members) {
      this.answerMembers(socket);
      return null;
    }
    const what = purpose === Purpose.Stream ? 'stream' : purpose === Purpose.Snapshot ? 'snapshot' : purpose === Purpose.Requests ? 'request' : `purpose ${purpose}`;
    const refusal = purpose === Purpose.Stream || purpose === Purpose.Snapshot || purpose === Purpose.Requests ? checkIdentity(id, this.ctx) : { reason: 'bad-identity' as const, message: `unknown purpose ${purpose}` };
    const sender = idField(id.from);
    if (refusal !== undefined) {
      if (this.refusalsLogged.first(sender, refusal.reason)) {
        this.ctx.logger.warn('refused a peer call', {
          'local-member-id': idField(this.ctx.memberId),
          'local-member-cluster-id': idField(this.ctx.clusterId),
          'remote-peer-id': sender,
          'remote-peer-cluster-id': idField(id.clusterId),
          'remote-peer-to': idField(id.to),
          call: what,
          error: refusal.message,
        });
      }
      if (refusal.reason === 'unknown-sender' && this.ctx.live()) this.ctx.handler.unknownPeer?.(id.from);
      socket.end(frame(FrameKind.Refuse, Buffer.from(refusal.message)));
      socket.destroySoon();
      return null;
    }
    this.refusalsLogged.forget(sender);
    const from = id.from;
    let set = this.bySender.get(from);
    if (set === undefined) this.bySender.set(from, (set = new Set()));
    set.add(socket);
    const forget = (): void => {
      set?.delete(socket);
      if (set?.size === 0) this.bySender.delete(from);
    };
    socket.write(frame(FrameKind.Accept, null));
    if (purpose === Purpose.Stream) return this.openStream(socket, from, forget);
    if (purpose === Purpose.Snapshot) return this.openSnapshot(socket, from, forget);
    return this.openRequests(socket, from, forget);
  }

  private openStream(socket: net.Socket, from: bigint, forget: () => void): { frame(kind: number, p: Buffer): void; close(): void } {
    this.streams.get(from)?.destroy();
    this.streams.set(from, socket);
    return {
      frame: (kind, payload) => {
        if (kind === FrameKind.Ping) {
          socket.write(frame(FrameKind.Pong, payload));
          return;
        }
        if (kind !== FrameKind.Batch) throw new PeerFrameError(`frame of type ${kind} on a stream`);
        if (!this.ctx.live()) return;
        let msgs: Message[];
        try {
          msgs = decodeBatch(payload);
        } catch (e) {
          this.ctx.logger.warn('malformed frame on a peer stream', { 'remote-peer-id': idField(from), error: e instanceof Error ? e.message : String(e) });
          throw new PeerFrameError(`malformed batch: ${e instanceof Error ? e.message : String(e)}`);
        }
        this.stats.framesReceived++;
        this.stats.messagesReceived += msgs.length;
        for (const m of msgs) if (this.acceptable(from, m)) this.process(m);
      },
      close: () => {
        if (this.streams.get(from) === socket) this.streams.delete(from);
        forget();
      },
    };
  }

  private openSnapshot(socket: net.Socket, from: bigint, forget: () => void): { frame(kind: number, p: Buffer): void; close(): void } {
    const frames = new FrameQueue();
    let paused = false;
    const receive = async (): Promise<void> => {
      let msg: Message | undefined;
      const next = async (): Promise<Buffer | null> => {
        const b = await frames.next();
        if (paused && frames.length < 4) {
          paused = false;
          socket.resume();
        }
        return b;
      };
      try {
        const first = await next();
        if (first === null) throw new Error('snapshot call ended before its message');
        const f = decodeSnapshotFrame(first);
        if (f.kind !== 'message' || f.message.type !== MessageType.Snap || f.message.snapshot === undefined || f.message.to !== this.ctx.memberId || f.message.from !== from) {
          throw new Error('snapshot call does not start with a MsgSnap from its sender to us');
        }
        msg = f.message;
        async function* chunks(): AsyncGenerator<Uint8Array> {
          for (;;) {
            const b = await next();
            if (b === null) throw new Error('snapshot call ended before its last chunk');
            const c = decodeSnapshotFrame(b);
            if (c.kind === 'done') return;
            if (c.kind !== 'chunk') throw new Error('unexpected frame inside snapshot data');
            yield c.chunk;
          }
        }
        if (!this.ctx.live()) throw new Error('transport stopped');
        this.ctx.logger.info('receiving database snapshot', { 'remote-peer-id': idField(from), index: msg.snapshot?.metadata.index });
        await this.ctx.handler.receiveSnapshot(msg, chunks());
        if (!this.ctx.live()) throw new Error('transport stopped');
        this.process(msg);
        this.ctx.logger.info('received and saved database snapshot', { 'remote-peer-id': idField(from), index: msg.snapshot?.metadata.index });
        socket.end(encodeResult(true, ''));
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        this.ctx.logger.warn('failed to receive database snapshot', { 'remote-peer-id': idField(from), index: msg?.snapshot?.metadata.index, error: why });
        if (!socket.destroyed) socket.end(encodeResult(false, `snapshot not taken: ${why}`));
      }
    };
    void receive();
    return {
      frame: (kind, payload) => {
        if (kind !== FrameKind.Snap) throw new PeerFrameError(`frame of type ${kind} on a snapshot call`);
        // Chunks are copied out of the socket's buffers (a frame may be a view of one).
        frames.push(Buffer.from(payload));
        if (!paused && frames.length >= 8) {
          paused = true;
          socket.pause();
        }
      },
      close: () => {
        frames.end();
        forget();
      },
    };
  }

  private openRequests(socket: net.Socket, from: bigint, forget: () => void): { frame(kind: number, p: Buffer): void; close(): void } {
    return {
      frame: (kind, payload) => {
        if (kind === FrameKind.Ping) {
          socket.write(frame(FrameKind.Pong, payload));
          return;
        }
        if (kind !== FrameKind.Req || payload.length < 4) throw new PeerFrameError(`frame of type ${kind} on a request call`);
        const rid = payload.readUInt32BE(0);
        let req: { kind: string; body: Uint8Array };
        try {
          req = decodeRequest(payload.subarray(4));
        } catch (e) {
          socket.write(encodeReply(rid, 1, Buffer.from(e instanceof Error ? e.message : String(e))));
          return;
        }
        if (!this.ctx.live()) {
          socket.write(encodeReply(rid, 1, Buffer.from('transport stopped')));
          return;
        }
        let answer: Promise<Uint8Array>;
        try {
          answer = this.ctx.handler.onRequest(from, req.kind, req.body);
        } catch (e) {
          answer = Promise.reject(e);
        }
        answer.then(
          (body) => {
            if (!socket.destroyed) socket.write(encodeReply(rid, 0, body));
          },
          (e: unknown) => {
            if (!socket.destroyed) socket.write(encodeReply(rid, 1, Buffer.from(e instanceof Error ? e.message : String(e))));
          },
        );
      },
      close: forget,
    };
  }

  /** Unauthenticated on purpose (see PeerHandler.clusterInfo): it only reads the member list. */
  private answerMembers(socket: net.Socket): void {
    const info = this.ctx.handler.clusterInfo;
    if (info === undefined || !this.ctx.live()) {
      socket.end(frame(FrameKind.Refuse, Buffer.from('member list not served here')));
      return;
    }
    try {
      socket.end(encodeReply(0, 0, info.call(this.ctx.handler)));
    } catch (e) {
      socket.end(encodeReply(0, 1, Buffer.from(e instanceof Error ? e.message : String(e))));
    }
  }

  /** Whether a message from the sender `from` (or relayed by it) may reach process(). */
  private acceptable(from: bigint, m: Message): boolean {
    const ok = belongsOnStream(this.ctx.memberId, from, m, (id) => this.ctx.isKnown(id) && !this.ctx.isRemoved(id));
    if (!ok) {
      if (this.droppedLogged.first(idField(from), String(m.type))) {
        this.ctx.logger.warn('dropped a peer message that does not belong on this stream', { 'remote-peer-id': idField(from), type: m.type, from: idField(m.from), to: idField(m.to) });
      }
    }
    return ok;
  }

  private process(m: Message): void {
    try {
      this.ctx.handler.process(m);
    } catch (e) {
      this.ctx.logger.error('handler failed to process a peer message', { error: e instanceof Error ? e.message : String(e), type: m.type });
    }
  }
}

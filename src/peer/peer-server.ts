/**
 * The receiving side: listens on every --listen-peer-urls (plain TCP sockets handed to grpc-js,
 * as rpc/client-listener.ts does, so a taken port fails with the OS's words and stop() can close
 * every connection), and serves the Peer service.
 *
 * Invariants:
 * - Every call is identified first (identity.ts); a refused call gets FAILED_PRECONDITION and
 *   nothing of it reaches the handler. Refusals are logged once per (sender, reason) streak.
 * - A Stream is accepted by sending response headers at once; at most one Stream per sender is
 *   kept (a newer one from the same sender closes the older, which the sender already gave up).
 * - Only messages addressed to us, of a non-local type other than MsgSnap, from the stream's
 *   sender or relayed by it for another known member (identity.ts isRelayable: a proposal,
 *   ReadIndex or TransferLeader keeps its first sender, as in etcd's raft) reach handler.process; MsgSnap arrives only through Snapshot, and process(msg) runs
 *   only after receiveSnapshot resolved; the acknowledgement follows process.
 * - A snapshot's data iterable ends normally only after the sender's `done` frame; a call cut
 *   short makes it throw, so a truncated snapshot is never taken as complete.
 * - removeSender(id) ends that sender's open streams; later calls from it are refused.
 */
import net from 'node:net';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { RemoteAddresses, tlsErrorText, tlsServerOptions, verifyClient, type TlsMaterial } from '../base/tls.js';
import { idField, type Logger } from '../base/logger.js';
import { MessageType, type Message } from '../raft/types.js';
import { decodeBatch, decodeRequest, decodeSnapshotFrame, encodeReply } from './codec.js';
import { PeerListenError } from './errors.js';
import { belongsOnStream, checkIdentity, mdRequestError, readIdentity, type LocalIdentity } from './identity.js';
import { grpcOptions, peerService } from './service.js';
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
  sockets: Set<net.Socket | tls.TLSSocket>;
}

const empty = Buffer.alloc(0);

export class PeerServer {
  private readonly grpcServer: grpc.Server;
  private readonly listening: Listening[] = [];
  private injector: ReturnType<grpc.Server['createConnectionInjector']> | undefined;
  /** The open Stream of each sender, by member id. */
  private readonly streams = new Map<bigint, { end(details?: string, code?: grpc.status): void }>();
  private readonly refusalsLogged = new Set<string>();
  private readonly droppedLogged = new Set<string>();
  /** Counters for tests and metrics. */
  readonly stats = { framesReceived: 0, messagesReceived: 0 };

  constructor(private readonly ctx: ServerContext) {
    this.grpcServer = new grpc.Server(grpcOptions(ctx.limits));
    this.grpcServer.addService(peerService, {
      Stream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => this.onStream(call, cb),
      Snapshot: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => void this.onSnapshot(call, cb),
      Request: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => this.onRequest(call, cb),
      Members: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => this.onMembers(cb),
    });
  }

  async listen(urls: string[]): Promise<void> {
    const injector = this.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.injector = injector;
    for (const raw of urls) {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new PeerListenError(`invalid peer URL ${JSON.stringify(raw)}`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PeerListenError(`unsupported peer URL scheme ${JSON.stringify(u.protocol.replace(/:$/, ''))} in ${raw} (http or https only)`);
      const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, '');
      const port = Number(u.port || 2380);
      const material = this.ctx.tls;
      if (u.protocol === 'https:' && material === null) throw new PeerListenError(`cannot listen on TLS for ${host}:${port}: KeyFile and CertFile are not presented`);
      if (u.protocol === 'http:' && material !== null) {
        this.ctx.logger.warn('scheme is HTTP while key and cert files are present; ignoring key and cert files', { 'peer-url': raw.replace(/\/$/, '') });
      }
      const sockets = new Set<net.Socket | tls.TLSSocket>();
      const track = (socket: net.Socket | tls.TLSSocket): void => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      };
      const tlsServer = u.protocol === 'https:' && material !== null ? this.tlsServer(material, track) : null;
      const server = net.createServer((socket) => {
        track(socket);
        socket.setNoDelay(true);
        // Peer TLS: the handshake (and the CN / host name check) first, then gRPC over the
        // decrypted stream; a peer that fails it never reaches the Peer service.
        if (tlsServer) {
          tlsServer.remotes.note(socket);
          tlsServer.server.emit('connection', socket);
        } else injector.injectConnection(socket);
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

  /** A TLS server (never listening itself) that hands verified connections to grpc-js. */
  private tlsServer(material: TlsMaterial, track: (s: tls.TLSSocket) => void): { server: tls.Server; remotes: RemoteAddresses } {
    const remotes = new RemoteAddresses();
    const server = tls.createServer(tlsServerOptions(material, true));
    const reject = (remote: string, error: string): void => {
      // Once per remote address and reason: a member with a wrong certificate redials every few seconds.
      const key = `${remote.replace(/:\d+$/, '')}/${error}`;
      if (this.refusalsLogged.has(key)) return;
      this.refusalsLogged.add(key);
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
      this.injector?.injectConnection(s);
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
    this.streams.get(id)?.end('the member has been permanently removed from the cluster', grpc.status.FAILED_PRECONDITION);
  }

  async close(): Promise<void> {
    for (const s of [...this.streams.values()]) s.end('transport stopped', grpc.status.UNAVAILABLE);
    this.injector?.destroy();
    await Promise.all(
      this.listening.splice(0).map(
        (l) =>
          new Promise<void>((resolve) => {
            for (const s of l.sockets) s.destroy();
            l.server.close(() => resolve());
          }),
      ),
    );
    this.grpcServer.forceShutdown();
  }

  /** The sender's id, or undefined after answering the call with the refusal. */
  private identify(md: grpc.Metadata, what: string, refuse: (e: grpc.ServerErrorResponse) => void): bigint | undefined {
    const id = readIdentity(md);
    const refusal = checkIdentity(id, this.ctx);
    const sender = id === undefined ? 'unknown' : idField(id.from);
    if (refusal === undefined && id !== undefined) {
      for (const k of this.refusalsLogged) if (k.startsWith(`${sender}/`)) this.refusalsLogged.delete(k);
      return id.from;
    }
    const key = `${sender}/${refusal?.reason}`;
    if (!this.refusalsLogged.has(key)) {
      this.refusalsLogged.add(key);
      this.ctx.logger.warn('refused a peer call', {
        'local-member-id': idField(this.ctx.memberId),
        'local-member-cluster-id': idField(this.ctx.clusterId),
        'remote-peer-id': sender,
        'remote-peer-cluster-id': id === undefined ? undefined : idField(id.clusterId),
        'remote-peer-to': id === undefined ? undefined : idField(id.to),
        call: what,
        error: refusal?.message,
      });
    }
    refuse({ name: 'PeerRefused', message: refusal?.message ?? '', code: grpc.status.FAILED_PRECONDITION, details: refusal?.message ?? '' });
    return undefined;
  }

  /** Whether a message from the sender `from` (or relayed by it) may reach process(). */
  private acceptable(from: bigint, m: Message): boolean {
    const ok = belongsOnStream(this.ctx.memberId, from, m, (id) => this.ctx.isKnown(id) && !this.ctx.isRemoved(id));
    if (!ok) {
      const key = `${idField(from)}/${m.type}`;
      if (!this.droppedLogged.has(key)) {
        this.droppedLogged.add(key);
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

  private onStream(call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void {
    const from = this.identify(call.metadata, 'stream', (e) => cb(e));
    if (from === undefined) return;
    this.streams.get(from)?.end('superseded by a newer stream from the same member', grpc.status.CANCELLED);
    let done = false;
    const me = {
      /** Without details: a normal end. FAILED_PRECONDITION only for refusals (the sender logs it as one). */
      end: (details?: string, code = grpc.status.UNAVAILABLE): void => {
        if (done) return;
        done = true;
        if (this.streams.get(from) === me) this.streams.delete(from);
        if (details === undefined) cb(null, empty);
        else cb({ code, details });
      },
    };
    this.streams.set(from, me);
    call.sendMetadata(new grpc.Metadata());
    call.on('data', (frame: Buffer) => {
      if (done || !this.ctx.live()) return;
      let msgs: Message[];
      try {
        msgs = decodeBatch(frame);
      } catch (e) {
        this.ctx.logger.warn('malformed frame on a peer stream', { 'remote-peer-id': idField(from), error: e instanceof Error ? e.message : String(e) });
        me.end(`malformed frame: ${e instanceof Error ? e.message : String(e)}`, grpc.status.INVALID_ARGUMENT);
        return;
      }
      this.stats.framesReceived++;
      this.stats.messagesReceived += msgs.length;
      for (const m of msgs) if (this.acceptable(from, m)) this.process(m);
    });
    call.on('end', () => me.end());
    call.on('error', () => me.end());
    call.on('cancelled', () => me.end());
  }

  private async onSnapshot(call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): Promise<void> {
    const from = this.identify(call.metadata, 'snapshot', (e) => cb(e));
    if (from === undefined) return;
    const frames = call[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let msg: Message | undefined;
    try {
      const first = await frames.next();
      if (first.done === true) throw new Error('snapshot call ended before its message');
      const f = decodeSnapshotFrame(first.value);
      if (f.kind !== 'message' || f.message.type !== MessageType.Snap || f.message.snapshot === undefined || f.message.to !== this.ctx.memberId || f.message.from !== from) {
        throw new Error('snapshot call does not start with a MsgSnap from its sender to us');
      }
      msg = f.message;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (;;) {
          const r = await frames.next();
          if (r.done === true) throw new Error('snapshot call ended before its last chunk');
          const c = decodeSnapshotFrame(r.value);
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
      cb(null, empty);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.ctx.logger.warn('failed to receive database snapshot', { 'remote-peer-id': idField(from), index: msg?.snapshot?.metadata.index, error: why });
      cb({ code: grpc.status.ABORTED, details: `snapshot not taken: ${why}` });
    }
  }

  /** Unauthenticated on purpose (see PeerHandler.clusterInfo): it only reads the member list. */
  private onMembers(cb: grpc.sendUnaryData<Buffer>): void {
    const info = this.ctx.handler.clusterInfo;
    if (info === undefined || !this.ctx.live()) {
      cb({ code: grpc.status.UNIMPLEMENTED, details: 'member list not served here' });
      return;
    }
    try {
      cb(null, encodeReply(info.call(this.ctx.handler)));
    } catch (e) {
      cb({ code: grpc.status.UNAVAILABLE, details: e instanceof Error ? e.message : String(e) });
    }
  }

  private onRequest(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void {
    const from = this.identify(call.metadata, 'request', (e) => cb(e));
    if (from === undefined) return;
    let req: { kind: string; body: Uint8Array };
    try {
      req = decodeRequest(call.request);
    } catch (e) {
      cb({ code: grpc.status.INVALID_ARGUMENT, details: e instanceof Error ? e.message : String(e) });
      return;
    }
    if (!this.ctx.live()) {
      cb({ code: grpc.status.UNAVAILABLE, details: 'transport stopped' });
      return;
    }
    let answer: Promise<Uint8Array>;
    try {
      answer = this.ctx.handler.onRequest(from, req.kind, req.body);
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer.then(
      (body) => cb(null, encodeReply(body)),
      (e: unknown) => {
        const md = new grpc.Metadata();
        md.set(mdRequestError, '1');
        cb({ code: grpc.status.UNKNOWN, details: e instanceof Error ? e.message : String(e), metadata: md });
      },
    );
  }
}

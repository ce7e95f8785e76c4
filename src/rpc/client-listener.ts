/**
 * The client listener: one TCP port serving gRPC (HTTP/2) and HTTP/1.1 together, as etcd does
 * with cmux (embed/serve.go), in plain text, in TLS, or both (when --listen-client-urls names the
 * same address with http:// and https://). The first bytes of a connection decide:
 * - a TLS record (first byte 0x16, a handshake) goes through the TLS server (base/tls.ts options:
 *   client certificates required and verified when --client-cert-auth or --trusted-ca-file,
 *   CRL, cipher suites, versions), then is sniffed again inside TLS;
 * - the HTTP/2 client preface ("PRI * HTTP/2.0") goes to etcdts's own HTTP/2 server
 *   (h2/grpc-server.ts), with the verified client certificate (auth by CN) when TLS carried it;
 * - anything else is HTTP/1.1 for a node:http server (gateway, /health, /version).
 * Plain bytes on a TLS-only port, or a TLS handshake on a plain-only port, close the connection
 * (etcd's TLS listener does the same: a plain-text client there sees its connection dropped).
 * Bytes read to decide are pushed back with unshift before the connection is handed over.
 *
 * Invariants: every accepted socket is tracked until it closes (close() destroys them all); a
 * connection whose handshake fails or whose certificate is not allowed never reaches a service
 * (the reason is logged once per connection, as etcd's "rejected connection").
 */
import net from 'node:net';
import http from 'node:http';
import tls from 'node:tls';
import type { Logger } from '../base/logger.js';
import { RemoteAddresses, tlsErrorText, tlsServerOptions, verifyClient, type TlsMaterial } from '../base/tls.js';
import type { GrpcServer } from './h2/grpc-server.js';

const h2Preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** Bytes needed to tell the two protocols apart ("PRI" vs an HTTP/1.1 method). */
const sniffBytes = 3;
/** A connection that sends nothing decidable (or finishes no handshake) for this long is closed. */
const sniffTimeoutMs = 10_000;
/** TLS record type of a handshake: the first byte a TLS client sends. */
const tlsHandshakeByte = 0x16;

export interface ClientListener {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Serve plain-text connections (an http:// URL for this address). */
  plain: boolean;
  /** Serve TLS connections with this material (an https:// URL for this address). */
  tls: TlsMaterial | null;
  logger: Logger;
}

type Sock = net.Socket | tls.TLSSocket;

/**
 * Reads until the first `n` bytes are in, pauses, pushes them back (unshift) and lets `decide`
 * hand the socket on; decide resumes it unless the new owner reads by itself (a TLS server
 * takes over the socket and reads what was pushed back first).
 */
function sniff(socket: Sock, n: number, decide: (head: Buffer) => void): void {
  let head: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), sniffTimeoutMs);
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.length < n) return;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.pause();
    socket.unshift(head);
    decide(head);
  };
  socket.on('data', onData);
  socket.resume(); // a socket paused by an earlier sniff flows again
  socket.once('close', () => clearTimeout(timer));
}

export async function listenClient(
  host: string,
  port: number,
  grpcServer: GrpcServer,
  httpServer: http.Server,
  opts: ListenOptions = { plain: true, tls: null, logger: silent },
): Promise<ClientListener> {
  const sockets = new Set<Sock>();
  const track = (s: Sock): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const reject = (remote: string, error: string): void => opts.logger.warn('rejected connection', { 'remote-addr': remote, 'server-name': '', error });
  /** A connection (plain, or decrypted TLS) whose protocol is not decided yet. */
  const serve = (socket: Sock, peerCertificate: tls.PeerCertificate | undefined): void => {
    sniff(socket, sniffBytes, (head) => {
      if (head.subarray(0, sniffBytes).equals(h2Preface.subarray(0, sniffBytes))) grpcServer.handleConnection(socket, peerCertificate);
      else httpServer.emit('connection', socket);
      socket.resume();
    });
  };
  const material = opts.tls;
  const remotes = new RemoteAddresses();
  let tlsServer: tls.Server | null = null;
  if (material !== null) {
    tlsServer = tls.createServer(tlsServerOptions(material));
    tlsServer.on('secureConnection', (s: tls.TLSSocket) => {
      track(s);
      s.setNoDelay(true);
      s.on('error', () => s.destroy());
      const remote = remotes.of(s);
      const refused = verifyClient(material, s);
      if (refused !== undefined) {
        reject(remote, refused);
        s.destroy();
        return;
      }
      serve(s, s.authorized ? s.getPeerCertificate() : undefined);
    });
    tlsServer.on('tlsClientError', (err: Error, s: tls.TLSSocket) => {
      reject(remotes.of(s), tlsErrorText(err));
      s.destroy();
    });
  }
  const server = net.createServer((socket) => {
    track(socket);
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    if (tlsServer === null) return serve(socket, undefined);
    const viaTls = tlsServer;
    sniff(socket, 1, (head) => {
      const isTls = head[0] === tlsHandshakeByte;
      if (isTls) {
        remotes.note(socket);
        viaTls.emit('connection', socket);
      }
      else if (opts.plain) serve(socket, undefined);
      else {
        reject(`${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`, 'tls: first record does not look like a TLS handshake');
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr !== null ? addr.port : port;
  return {
    port: boundPort,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

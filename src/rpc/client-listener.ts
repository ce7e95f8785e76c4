/**
 * The client listener: one TCP port serving gRPC (HTTP/2 cleartext) and HTTP/1.1 together, as
 * etcd does with cmux (embed/serve.go). The first bytes of a connection decide: the HTTP/2
 * client preface starts with "PRI * HTTP/2.0", anything else is HTTP/1.1.
 *
 * gRPC connections go to etcdts's own HTTP/2 server (h2/grpc-server.ts); HTTP/1.1 connections
 * go to a node:http server (gateway, /health, /version). Bytes read to decide are pushed back
 * with unshift before the connection is handed over.
 */
import net from 'node:net';
import http from 'node:http';
import type { GrpcServer } from './h2/grpc-server.js';

const h2Preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** Bytes needed to tell the two protocols apart ("PRI" vs an HTTP/1.1 method). */
const sniffBytes = 3;
/** A connection that sends nothing decidable for this long is closed. */
const sniffTimeoutMs = 10_000;

export interface ClientListener {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export async function listenClient(
  host: string,
  port: number,
  grpcServer: GrpcServer,
  httpServer: http.Server,
): Promise<ClientListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    let head: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), sniffTimeoutMs);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < sniffBytes) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      socket.unshift(head);
      if (head.subarray(0, sniffBytes).equals(h2Preface.subarray(0, sniffBytes))) {
        grpcServer.handleConnection(socket);
        socket.resume();
      } else {
        httpServer.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
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

/**
 * The gRPC service of proto/etcdtspb/peer.proto, declared by hand: frames travel as raw bytes
 * (Buffer in, Buffer out) and codec.ts turns them into Raft messages, so no proto-loader object
 * model (and no string longs) sits on the hot path.
 */
import type * as grpc from '@grpc/grpc-js';

const raw = (b: Buffer): Buffer => b;

function method(name: string, requestStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/etcdtspb.Peer/${name}`,
    requestStream,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  };
}

export const peerService = {
  Stream: method('Stream', true),
  Snapshot: method('Snapshot', true),
  Request: method('Request', false),
} satisfies grpc.ServiceDefinition;

export const streamPath = peerService.Stream.path;
export const snapshotPath = peerService.Snapshot.path;
export const requestPath = peerService.Request.path;
export const serialize = raw;
export const deserialize = raw;

/** Channel/server options shared by both ends. */
export function grpcOptions(l: { frameBytesMax: number; keepaliveMs: number; keepaliveTimeoutMs: number }): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': l.frameBytesMax,
    'grpc.max_send_message_length': l.frameBytesMax,
    'grpc.keepalive_time_ms': l.keepaliveMs,
    'grpc.keepalive_timeout_ms': l.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    // Our own reconnect loop decides when to dial; each peer gets its own connection.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  };
}

/** "host:port" for grpc-js from an http peer URL. */
export function dialTarget(url: string): string {
  const u = new URL(url);
  const port = u.port || '2380';
  return `${u.hostname}:${port}`;
}

/**
 * The client side of the peer Members call (PeerHandler.clusterInfo): one connection to a peer
 * URL with purpose MEMBERS and no identity (the caller may not know its own member id or the
 * cluster id yet); the peer answers one REPLY and closes. Used by a member started with
 * --initial-cluster-state existing (etcd's GetClusterFromRemotePeers) and by a member checking
 * whether it was removed.
 */
import net from 'node:net';
import { PeerUnavailableError } from './errors.js';
import { FrameKind, FrameReader, Purpose, decodeReply, encodeHello, peerAddress } from './frames.js';

/** The largest member list reply accepted. */
const replyBytesMax = 16 * 1024 * 1024;

export function fetchClusterInfo(peerUrl: string, timeoutMs: number): Promise<Uint8Array> {
  let addr: { host: string; port: number };
  try {
    addr = peerAddress(peerUrl);
  } catch {
    return Promise.reject(new PeerUnavailableError(`invalid peer URL ${JSON.stringify(peerUrl)}`));
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    const sock = net.connect({ host: addr.host, port: addr.port });
    const reader = new FrameReader(replyBytesMax);
    let done = false;
    const finish = (err: Error | null, body?: Uint8Array): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(body as Uint8Array);
    };
    const timer = setTimeout(() => finish(new PeerUnavailableError(`peer ${peerUrl}: timed out`)), timeoutMs);
    sock.once('connect', () => sock.write(encodeHello({ purpose: Purpose.Members, clusterId: 0n, from: 0n, to: 0n })));
    sock.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (kind, payload) => {
          if (kind === FrameKind.Refuse) return finish(new PeerUnavailableError(`peer ${peerUrl}: ${payload.toString()}`, true));
          if (kind !== FrameKind.Reply) return finish(new PeerUnavailableError(`peer ${peerUrl}: unexpected frame ${kind}`));
          const r = decodeReply(payload);
          if (r.status !== 0) return finish(new PeerUnavailableError(`peer ${peerUrl}: ${r.body.toString()}`));
          finish(null, new Uint8Array(r.body));
        });
      } catch (e) {
        finish(new PeerUnavailableError(`peer ${peerUrl}: malformed member list reply: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish(new PeerUnavailableError(`peer ${peerUrl}: ${e.code ?? e.message}`)));
    sock.on('close', () => finish(new PeerUnavailableError(`peer ${peerUrl}: connection closed without a reply`)));
  });
}

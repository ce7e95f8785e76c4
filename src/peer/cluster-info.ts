/**
 * The client side of the peer Members call (PeerHandler.clusterInfo): one unary call to a peer
 * URL, with no identity (the caller may not know its own member id or the cluster id yet).
 * Used by a member started with --initial-cluster-state existing (etcd's
 * GetClusterFromRemotePeers) and by a member checking whether it was removed.
 */
import * as grpc from '@grpc/grpc-js';
import type { TlsMaterial } from '../base/tls.js';
import { decodeReply } from './codec.js';
import { diagnosePeerTls, peerCredentials } from './credentials.js';
import { PeerUnavailableError } from './errors.js';
import { deserialize, dialTarget, membersPath, serialize } from './service.js';

export function fetchClusterInfo(peerUrl: string, timeoutMs: number, tls: TlsMaterial | null = null): Promise<Uint8Array> {
  let target: string;
  try {
    target = dialTarget(peerUrl);
  } catch {
    return Promise.reject(new PeerUnavailableError(`invalid peer URL ${JSON.stringify(peerUrl)}`));
  }
  const client = new grpc.Client(target, peerCredentials(peerUrl, tls), { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_retries': 0 });
  return new Promise<Uint8Array>((resolve, reject) => {
    client.makeUnaryRequest(membersPath, serialize, deserialize, Buffer.alloc(0), { deadline: Date.now() + timeoutMs }, (err, reply) => {
      client.close();
      if (err || reply === undefined) {
        const why = err?.details || err?.message || 'no reply';
        // grpc-js reports a TLS refusal as a failed connection: say what TLS said.
        void diagnosePeerTls(peerUrl, tls).then((tlsWhy) => reject(new PeerUnavailableError(`peer ${peerUrl}: ${tlsWhy ?? why}`)));
      } else {
        try {
          resolve(decodeReply(reply));
        } catch (e) {
          reject(new PeerUnavailableError(`peer ${peerUrl}: malformed member list reply: ${e instanceof Error ? e.message : String(e)}`));
        }
      }
    });
  });
}

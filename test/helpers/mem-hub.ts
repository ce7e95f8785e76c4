/**
 * A test-only in-process peer network: each member registers its PeerHandler; messages are
 * delivered on a later turn of the event loop, in order per sender/receiver pair; a member can
 * be cut off (both directions) to simulate a crash or partition.
 */
import type { Message } from '../../src/raft/types.js';
import type { PeerHandler, Transport } from '../../src/peer/transport.js';
import { mayOriginate } from '../../src/peer/identity.js';

export class MemHub {
  private readonly handlers = new Map<bigint, PeerHandler>();
  private readonly down = new Set<bigint>();

  transport(self: bigint, handler: PeerHandler): Transport {
    const hub = this;
    let stopped = false;
    return {
      async start() {
        hub.handlers.set(self, handler);
      },
      addPeer() {},
      updatePeer() {},
      removePeer() {},
      send(msgs: Message[]) {
        for (const m of msgs) {
          // The same rule as the real transports: our own message, or a relayed proposal/read.
          if (!mayOriginate(self, m)) throw new Error(`send of a message from ${m.from}, neither ours nor relayable`);
          setImmediate(() => {
            if (stopped || hub.down.has(self) || hub.down.has(m.to)) return;
            const h = hub.handlers.get(m.to);
            if (h) h.process(m);
            else handler.reportUnreachable(m.to);
          });
        }
      },
      sendSnapshot(m: Message, data: () => AsyncIterable<Uint8Array>) {
        void (async () => {
          const h = hub.handlers.get(m.to);
          try {
            if (!h || hub.down.has(m.to) || hub.down.has(self)) throw new Error('unreachable');
            await h.receiveSnapshot(m, data());
            h.process(m);
            handler.reportSnapshot(m.to, true);
          } catch {
            handler.reportSnapshot(m.to, false);
          }
        })();
      },
      request(to: bigint, kind: string, body: Uint8Array) {
        const h = hub.handlers.get(to);
        if (!h || hub.down.has(to) || hub.down.has(self)) return Promise.reject(new Error('unreachable'));
        return h.onRequest(self, kind, body);
      },
      activeSince() {
        return undefined;
      },
      async stop() {
        stopped = true;
        if (hub.handlers.get(self) === handler) hub.handlers.delete(self);
      },
    };
  }

  cut(id: bigint): void {
    this.down.add(id);
  }

  heal(id: bigint): void {
    this.down.delete(id);
  }
}

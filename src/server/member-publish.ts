/**
 * Publishing this member's name and client URLs to the cluster (etcd's EtcdServer.publish): a
 * MemberPublish request through Raft once a leader is known, retried every publishRetryMs until
 * it applies; skipped when the member list already holds the same attributes.
 *
 * Invariants: at most one publish timer is armed at a time; nothing is scheduled once the member
 * stopped or published; a failure while stopping is not retried (nor logged); whenPublished
 * settles exactly when the attributes are known to be in the cluster, and never fails.
 */
import { hex } from '../base/int64.js';
import type { Logger } from '../base/logger.js';
import type { Runtime, TimerHandle } from '../base/runtime.js';
import type { MemberStore } from '../membership/member-store.js';
import { RequestKind, type InternalRequest } from './internal-request.js';

/** How often a member retries publishing its attributes until it succeeds. */
export const publishRetryMs = 2_000;

export interface PublishHost {
  readonly rt: Runtime;
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly name: string;
  readonly clientURLs: string[];
  readonly logger: Logger;
  members(): MemberStore;
  propose(make: (id: bigint) => InternalRequest): Promise<unknown>;
  stopped(): boolean;
}

export class MemberPublisher {
  private published = false;
  private timer: TimerHandle | null = null;
  private markPublished!: () => void;
  /** Settles once this member's attributes are in the cluster (etcd's ReadyNotify). */
  readonly whenPublished = new Promise<void>((resolve) => (this.markPublished = resolve));

  constructor(private readonly h: PublishHost) {}

  /** Publishes after delayMs, unless published, stopped, or already scheduled. */
  schedule(delayMs: number): void {
    if (this.published || this.h.stopped() || this.timer !== null) return;
    this.timer = this.h.rt.after(delayMs, () => {
      this.timer = null;
      void this.publish();
    });
  }

  stop(): void {
    this.timer?.cancel();
  }

  private async publish(): Promise<void> {
    const h = this.h;
    const self = h.members().get(h.memberId);
    const want = { name: h.name, clientURLs: h.clientURLs };
    if (self && self.name === want.name && self.clientURLs.join(',') === want.clientURLs.join(',')) {
      this.published = true;
      this.markPublished();
      return;
    }
    try {
      await h.propose((id) => ({ kind: RequestKind.MemberPublish, id, req: { memberId: h.memberId, ...want } }));
      this.published = true;
      this.markPublished();
      h.logger.info('published local member to cluster through raft', {
        'local-member-id': hex(h.memberId),
        'local-member-attributes': `{Name:${want.name} ClientURLs:[${want.clientURLs.join(' ')}]}`,
        'cluster-id': hex(h.clusterId),
      });
    } catch (e) {
      if (h.stopped()) return;
      h.logger.warn('failed to publish local member to cluster through raft', { error: String(e) });
      this.schedule(publishRetryMs);
    }
  }
}

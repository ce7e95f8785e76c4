/**
 * Metrics at a glance, from the member's own counters sampled by the page: its Prometheus
 * /metrics when it serves one (etcd's names), else what Maintenance.Status tells (revision and
 * raft index deltas; a leader change seen between two samples). No DOM here.
 */
import type { Gateway, StatusResult } from './api.js';

/** Sum of each series by metric name (labels dropped), histogram buckets kept by their `le`. */
export interface Scrape {
  values: Map<string, number>;
  buckets: Map<string, { le: number; count: number }[]>;
}

export function parsePrometheus(text: string): Scrape {
  const values = new Map<string, number>();
  const buckets = new Map<string, { le: number; count: number }[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const name = m[1] as string;
    const v = Number(m[3]);
    if (!Number.isFinite(v) && !Number.isNaN(v)) continue;
    if (name.endsWith('_bucket')) {
      const le = /le="([^"]+)"/.exec(m[2] ?? '');
      if (le !== null) {
        const list = buckets.get(name) ?? [];
        const bound = le[1] === '+Inf' ? Infinity : Number(le[1]);
        const same = list.find((b) => b.le === bound);
        if (same) same.count += v;
        else list.push({ le: bound, count: v });
        buckets.set(name, list);
      }
      continue;
    }
    values.set(name, (values.get(name) ?? 0) + v);
  }
  for (const list of buckets.values()) list.sort((a, b) => a.le - b.le);
  return { values, buckets };
}

/**
 * A quantile of the observations between two scrapes of a histogram, as Prometheus's
 * histogram_quantile: linear within the bucket the rank falls in. NaN when nothing was observed.
 */
export function quantileBetween(q: number, older: { le: number; count: number }[] | undefined, newer: { le: number; count: number }[] | undefined): number {
  if (newer === undefined || newer.length === 0) return NaN;
  const delta = newer.map((b) => ({ le: b.le, count: b.count - (older?.find((o) => o.le === b.le)?.count ?? 0) }));
  const total = delta[delta.length - 1]?.count ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of delta) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket <= 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

export interface Sample {
  at: number;
  /** Requests per second since the previous sample (NaN for the first, or when unknown). */
  writesPerSec: number;
  readsPerSec: number;
  raftIndexPerSec: number;
  /** WAL fsync p99 over the last window, in ms (NaN when unknown). */
  fsyncP99Ms: number;
  leaderChanges: number;
  dbSize: number;
}

export type MetricsSource = 'metrics' | 'status';

const windowSamples = 15;

export class MetricsSampler {
  readonly samples: Sample[] = [];
  source: MetricsSource = 'metrics';
  /** The member's status at the last sample (its revision and leader head the page). */
  status: StatusResult | null = null;
  private scrapes: { at: number; s: Scrape }[] = [];
  private lastStatus: { at: number; revision: number; raftIndex: number; leader: string } | null = null;
  private statusLeaderChanges = 0;

  constructor(
    private readonly gw: Gateway,
    private readonly keep = 90,
  ) {}

  async sample(): Promise<Sample> {
    const at = Date.now();
    const status = await this.gw.status({ timeoutMs: 3000 });
    this.status = status;
    const revision = Number(status.header.revision ?? 0);
    const raftIndex = Number(status.raftIndex ?? 0);
    const leader = status.leader ?? '0';
    const prevStatus = this.lastStatus;
    this.lastStatus = { at, revision, raftIndex, leader };
    if (prevStatus !== null && prevStatus.leader !== leader) this.statusLeaderChanges++;
    const secs = prevStatus === null ? NaN : (at - prevStatus.at) / 1000;
    let sample: Sample = {
      at,
      writesPerSec: prevStatus === null ? NaN : (revision - prevStatus.revision) / secs,
      readsPerSec: NaN,
      raftIndexPerSec: prevStatus === null ? NaN : (raftIndex - prevStatus.raftIndex) / secs,
      fsyncP99Ms: NaN,
      leaderChanges: this.statusLeaderChanges,
      dbSize: Number(status.dbSize ?? 0),
    };
    if (this.source === 'metrics') {
      const scrape = await this.scrape();
      if (scrape === null) this.source = 'status';
      else sample = this.fromScrape(at, scrape, sample);
    }
    this.samples.push(sample);
    if (this.samples.length > this.keep) this.samples.shift();
    return sample;
  }

  private async scrape(): Promise<Scrape | null> {
    const base = this.gw.base;
    const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(3000) });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
    return parsePrometheus(await res.text());
  }

  private fromScrape(at: number, s: Scrape, fallback: Sample): Sample {
    const prev = this.scrapes[this.scrapes.length - 1];
    this.scrapes.push({ at, s });
    if (this.scrapes.length > windowSamples + 1) this.scrapes.shift();
    const v = (x: Scrape, name: string): number => x.values.get(name) ?? 0;
    const writes = (x: Scrape): number => v(x, 'etcd_mvcc_put_total') + v(x, 'etcd_mvcc_delete_total');
    const secs = prev === undefined ? NaN : (at - prev.at) / 1000;
    const oldest = this.scrapes[0];
    const fsync = 'etcd_disk_wal_fsync_duration_seconds_bucket';
    return {
      ...fallback,
      writesPerSec: prev === undefined ? NaN : (writes(s) - writes(prev.s)) / secs,
      readsPerSec: prev === undefined ? NaN : (v(s, 'etcd_mvcc_range_total') - v(prev.s, 'etcd_mvcc_range_total')) / secs,
      fsyncP99Ms: oldest === undefined || oldest.s === s ? NaN : quantileBetween(0.99, oldest.s.buckets.get(fsync), s.buckets.get(fsync)) * 1000,
      leaderChanges: v(s, 'etcd_server_leader_changes_seen_total'),
      dbSize: s.values.get('etcd_mvcc_db_total_size_in_bytes') ?? fallback.dbSize,
    };
  }
}

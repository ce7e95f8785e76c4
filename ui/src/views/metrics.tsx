/** Metrics at a glance: small charts of the member's own counters, sampled by the page (metrics.ts). */
import type { MetricsSampler, Sample } from '../metrics.js';
import { formatBytes } from '../bytes.js';
import { Sparkline } from '../widgets.js';

function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

export function MetricsView({ sampler, samples }: { sampler: MetricsSampler; samples: Sample[] }) {
  const last = samples[samples.length - 1];
  const cards: { title: string; value: string; series: number[]; note?: string }[] = [
    { title: 'Writes/s', value: fmt(last?.writesPerSec ?? NaN), series: samples.map((s) => s.writesPerSec) },
    {
      title: 'Reads/s',
      value: fmt(last?.readsPerSec ?? NaN),
      series: samples.map((s) => s.readsPerSec),
      note: sampler.source === 'status' ? 'needs /metrics' : undefined,
    },
    {
      title: 'WAL fsync p99 (ms)',
      value: fmt(last?.fsyncP99Ms ?? NaN, 2),
      series: samples.map((s) => s.fsyncP99Ms),
      note: sampler.source === 'status' ? 'needs /metrics' : 'over the last 30 s',
    },
    { title: 'Leader changes', value: last ? String(last.leaderChanges) : '–', series: samples.map((s) => s.leaderChanges), note: sampler.source === 'status' ? 'seen by this page' : 'since the member started' },
    { title: 'Raft entries/s', value: fmt(last?.raftIndexPerSec ?? NaN), series: samples.map((s) => s.raftIndexPerSec) },
    { title: 'DB size', value: last ? formatBytes(last.dbSize) : '–', series: samples.map((s) => s.dbSize) },
  ];
  return (
    <div class="metrics-view">
      <p class="muted">
        Sampled every 2 s from {sampler.source === 'metrics' ? "this member's /metrics (etcd's counters)" : "this member's status (it serves no /metrics): writes/s from revision deltas, raft entries/s from its raft index"}; the last{' '}
        {samples.length} samples.
      </p>
      <div class="cards">
        {cards.map((c) => (
          <section class="card" aria-label={c.title} data-metric={c.title}>
            <h3>{c.title}</h3>
            <p class="big">{c.value}</p>
            <Sparkline values={c.series} label={`${c.title}, last ${c.series.length} samples`} />
            {c.note && <p class="muted small">{c.note}</p>}
          </section>
        ))}
      </div>
    </div>
  );
}

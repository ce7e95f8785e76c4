/** The console's value views and its metrics arithmetic (ui/src/value-format.ts, metrics.ts). */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../ui/src/bytes.js';
import { parsePrometheus, quantileBetween } from '../../../ui/src/metrics.js';
import { detectMode, modesFor, renderValue } from '../../../ui/src/value-format.js';

describe('value views', () => {
  it('opens JSON pretty-printed, text as text, other bytes in hex', () => {
    expect(detectMode(utf8('{"a":[1,2]}'))).toBe('json');
    expect(renderValue(utf8('{"a":[1,2]}'), 'json')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
    expect(detectMode(utf8('hello\nworld'))).toBe('text');
    expect(modesFor(utf8('42'))).toEqual(['text', 'hex']);
    expect(detectMode(new Uint8Array([0, 1, 2, 0xff]))).toBe('hex');
    expect(renderValue(new Uint8Array([0x41, 0x00, 0xff]), 'hex')).toBe(`00000000  ${'41 00 ff'.padEnd(47)}  A..`);
  });
});

describe('metrics', () => {
  const text = [
    '# HELP etcd_mvcc_put_total Total number of puts seen by this member.',
    'etcd_mvcc_put_total 10',
    'grpc_server_handled_total{grpc_code="OK",grpc_method="Range"} 3',
    'grpc_server_handled_total{grpc_code="OK",grpc_method="Put"} 4',
    'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 50',
    'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 90',
    'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.004"} 100',
    'etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 100',
  ].join('\n');

  it('sums series by name and keeps histogram buckets', () => {
    const s = parsePrometheus(text);
    expect(s.values.get('etcd_mvcc_put_total')).toBe(10);
    expect(s.values.get('grpc_server_handled_total')).toBe(7);
    expect(s.buckets.get('etcd_disk_wal_fsync_duration_seconds_bucket')).toHaveLength(4);
  });

  it('takes a quantile of the observations between two scrapes, as histogram_quantile', () => {
    const newer = parsePrometheus(text).buckets.get('etcd_disk_wal_fsync_duration_seconds_bucket');
    const older = [
      { le: 0.001, count: 50 },
      { le: 0.002, count: 50 },
      { le: 0.004, count: 50 },
      { le: Infinity, count: 50 },
    ];
    // Between the scrapes: 40 in (1ms, 2ms], 10 in (2ms, 4ms]; p99 is rank 49.5 → 2ms + 2ms × 9.5/10.
    expect(quantileBetween(0.99, older, newer)).toBeCloseTo(0.0039, 6);
    expect(quantileBetween(0.5, older, newer)).toBeCloseTo(0.001625, 6);
    expect(quantileBetween(0.99, newer, newer)).toBeNaN();
  });
});

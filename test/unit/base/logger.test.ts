import { describe, expect, it } from 'vitest';
import { createLogger, createTestLogger, formatLine, goDuration, idField } from '../../../src/base/logger.js';

const at = new Date('2026-11-23T14:05:04.389Z');

describe('log lines shaped like etcd’s zap logger', () => {
  it('writes level, ts, caller, msg, then the fields in order', () => {
    // From a live etcd 3.4.23 --logger zap:
    // {"level":"info","ts":"2026-11-23T14:05:04.389Z","caller":"etcdserver/raft.go:536","msg":"starting local member","local-member-id":"b71f75320dc06a6c","cluster-id":"1c45a069f3a1d796"}
    const line = formatLine('info', at, 'etcdserver/raft.go:536', 'starting local member', {
      'local-member-id': idField(13195394291058371180n),
      'cluster-id': idField(2037210783374497686n),
    });
    expect(line).toBe(
      '{"level":"info","ts":"2026-11-23T14:05:04.389Z","caller":"etcdserver/raft.go:536","msg":"starting local member","local-member-id":"b71f75320dc06a6c","cluster-id":"1c45a069f3a1d796"}',
    );
  });

  it('prints bigints as exact numbers, errors as messages, URLs without a trailing slash, durations as Go', () => {
    const lines: string[] = [];
    const log = createLogger({ out: (l) => lines.push(l), caller: false, now: () => at });
    log.warn('x', {
      'quota-size-bytes': 2147483648,
      'raft-index': 18446744073709551615n,
      error: new Error('boom'),
      'listen-client-urls': [new URL('http://127.0.0.1:2379')],
      took: goDuration(1.166367),
      missing: undefined,
      ok: true,
      nested: { a: [1n, null] },
    });
    expect(lines).toEqual([
      '{"level":"warn","ts":"2026-11-23T14:05:04.389Z","msg":"x","quota-size-bytes":2147483648,"raft-index":18446744073709551615,"error":"boom","listen-client-urls":["http://127.0.0.1:2379"],"took":"1.166367ms","ok":true,"nested":{"a":[1,null]}}',
    ]);
  });

  it('names the calling file and line as the caller', () => {
    const t = createTestLogger();
    t.logger.info('hi');
    expect(t.records()[0]?.caller).toMatch(/^base\/logger\.test\.ts:\d+$/);
  });

  it('filters by level as zap does', () => {
    const t = createTestLogger('warn');
    t.logger.debug('d');
    t.logger.info('i');
    t.logger.warn('w');
    t.logger.error('e');
    expect(t.records().map((r) => [r.level, r.msg])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
    ]);
    const quiet = createTestLogger('fatal');
    quiet.logger.error('e');
    expect(quiet.lines).toEqual([]);
    const all = createTestLogger('debug');
    all.logger.debug('d');
    expect(all.records()[0]?.level).toBe('debug');
  });

  it('formats ids and durations as etcd prints them', () => {
    expect(idField(0x0123n)).toBe('123'); // types.ID.String() does not pad
    expect(idField(-1n)).toBe('ffffffffffffffff');
    expect([0, 100, 1000, 900, 1.5, 0.001, 60_000, 5_400_000, 3_600_000, 90_000].map(goDuration)).toEqual([
      '0s', '100ms', '1s', '900ms', '1.5ms', '1µs', '1m0s', '1h30m0s', '1h0m0s', '1m30s',
    ]);
  });
});

/**
 * Structured JSON log lines on stderr, shaped like etcd's zap logger:
 * {"level":"info","ts":"2026-11-23T13:30:00.123Z","caller":"etcdts/server","msg":"...",...fields}.
 * bigint fields print as decimal strings; ids are passed already formatted (hex) as etcd does.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function createLogger(opts: { level?: string; caller?: string; out?: (line: string) => void } = {}): Logger {
  const lvl = (['debug', 'info', 'warn', 'error'] as const).includes(opts.level as Level) ? (opts.level as Level) : 'info';
  const min = order[lvl];
  const out = opts.out ?? ((line: string) => process.stderr.write(line + '\n'));
  const caller = opts.caller ?? 'etcdts';
  const emit = (level: Level, msg: string, fields?: Fields): void => {
    if (order[level] < min) return;
    const rec: Fields = { level, ts: new Date().toISOString(), caller, msg, ...fields };
    out(JSON.stringify(rec, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = createLogger({ out: () => undefined });

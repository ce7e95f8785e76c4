/** Where ctl's output goes, and etcdctl's exit codes (pkg/cobrautl). */
export const ExitCode = {
  Success: 0,
  Error: 1,
  BadConnection: 2,
  InvalidInput: 3,
  BadFeature: 4,
  Interrupted: 5,
  IO: 6,
  BadArgs: 128,
} as const;

/**
 * Ends the command with an exit code. The message (a binary string) is printed as
 * `Error: <msg>` unless `raw` (then printed as is, e.g. a Go panic line); with `usage`, the
 * command's usage goes to stdout around it as cobra prints it for a flag error.
 */
export class CliExit extends Error {
  override name = 'CliExit';
  readonly code: number;
  readonly usage: boolean;
  readonly raw: boolean;
  constructor(code: number, message: string, opts: { usage?: boolean; raw?: boolean } = {}) {
    super(message);
    this.code = code;
    this.usage = opts.usage ?? false;
    this.raw = opts.raw ?? false;
  }
}

/** Output sinks; strings are binary (one char per byte), written as latin1. */
export interface Out {
  stdout(s: string): void;
  stderr(s: string): void;
}

export const processOut: Out = {
  stdout: (s) => void process.stdout.write(Buffer.from(s, 'latin1')),
  stderr: (s) => void process.stderr.write(Buffer.from(s, 'latin1')),
};

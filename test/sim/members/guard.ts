/**
 * While a simulation runs, nothing of the system under test may touch real time, real timers,
 * real randomness, sockets or threadpool I/O: one seed must replay a run exactly. The guard
 * replaces Node's timer functions, Math.random, Date.now, new Date() and process.kill for
 * the duration of a run; a call made from code under src/ is recorded as a violation (the
 * run fails with its stack) and still served, so the violation is reported, not hidden by a
 * hang. Calls from elsewhere (the test runner) pass untouched.
 *
 * `strictIo` adds an async_hooks check: any async resource other than a promise or the
 * scheduler's own turn (a file request, a socket, a native add-on's threadpool work) created
 * from src/ is a violation. It costs a promise hook, so it is for some seeds, not every one.
 */
import { createHook, type AsyncHook } from 'node:async_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src') + path.sep;

function fromSrc(stack: string | undefined): boolean {
  if (stack === undefined) return false;
  // The first frames are this file's; a frame in src/ anywhere below means src/ asked.
  return stack.split('\n').some((l) => l.includes(srcDir));
}

export class Guard {
  readonly violations: string[] = [];
  private restore: (() => void)[] = [];
  private hook: AsyncHook | null = null;

  install(strictIo: boolean): void {
    const g = globalThis as unknown as Record<string, unknown>;
    const wrap = <T extends object>(obj: T, key: keyof T & string, what: string): void => {
      const orig = obj[key] as unknown as (...a: unknown[]) => unknown;
      const self = this;
      (obj as Record<string, unknown>)[key] = function (this: unknown, ...args: unknown[]) {
        const stack = new Error().stack;
        if (fromSrc(stack)) self.violations.push(`${what} called from src/:\n${stack}`);
        return orig.apply(this, args);
      };
      this.restore.push(() => void ((obj as Record<string, unknown>)[key] = orig));
    };
    for (const k of ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'] as const) {
      if (k === 'queueMicrotask') continue; // microtasks are deterministic
      wrap(g, k, k);
    }
    wrap(Math, 'random', 'Math.random');
    wrap(Date, 'now', 'Date.now');
    // performance.now is left alone: src/ reads it only to time what it reports in metrics
    // (etcd's *_duration_seconds), which nothing in its behaviour depends on — the replay test
    // (test/sim/members.test.ts) would show it if something did.
    wrap(process, 'nextTick', 'process.nextTick');
    const OrigDate = Date;
    const self = this;
    // `new Date()` reads the wall clock; `new Date(ms)` does not.
    class GuardDate extends OrigDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) {
          const stack = new Error().stack;
          if (fromSrc(stack)) self.violations.push(`new Date() called from src/:\n${stack}`);
        }
        super(...(args as []));
      }
    }
    g.Date = GuardDate;
    this.restore.push(() => void (g.Date = OrigDate));
    const kill = process.kill;
    process.kill = ((pid: number, sig?: string | number) => {
      this.violations.push(`process.kill(${pid}, ${String(sig)}) during a simulation:\n${new Error().stack}`);
      if (pid === process.pid) throw new Error('process.kill of the simulator itself');
      return kill.call(process, pid, sig);
    }) as typeof process.kill;
    this.restore.push(() => void (process.kill = kill));
    if (strictIo) {
      const allowed = new Set(['PROMISE', 'Immediate', 'Microtask']);
      this.hook = createHook({
        init: (_id, type) => {
          if (allowed.has(type)) return;
          const stack = new Error().stack;
          if (fromSrc(stack)) this.violations.push(`async resource ${type} created from src/:\n${stack}`);
        },
      }).enable();
    }
  }

  uninstall(): void {
    this.hook?.disable();
    this.hook = null;
    for (const r of this.restore.splice(0).reverse()) r();
  }
}

/**
 * SIGINT/SIGTERM as etcdctl's long-running commands take them (signal.Notify): the first one
 * resolves `promise` instead of killing the process, so the command can clean up (unlock,
 * resign) and exit 0. `dispose` restores Node's default handling.
 */
export interface Interrupt extends Promise<void> {
  dispose(): void;
}

export function onInterrupt(fn: () => void): Interrupt {
  let handler: () => void = () => undefined;
  const p = new Promise<void>((resolve) => {
    handler = () => {
      fn();
      resolve();
    };
  }) as Interrupt;
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  p.dispose = () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
  return p;
}

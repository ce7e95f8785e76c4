/**
 * Assertions guard programmer errors: a failed assertion means the code is wrong, not the
 * input, so it throws an AssertionError that nothing should catch and recover from.
 * Operating errors (bad requests, I/O failures) use typed error classes instead.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}

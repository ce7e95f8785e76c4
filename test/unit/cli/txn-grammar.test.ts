/** The txn input grammar and its error texts (as etcdctl 3.4.23 prints them). */
import { describe, expect, it } from 'vitest';
import { argify, parseCompare } from '../../../src/cli/txn-grammar.js';
import { CliExit } from '../../../src/cli/output.js';

function failure(line: string): string {
  try {
    parseCompare(line);
  } catch (e) {
    if (e instanceof CliExit) return `${e.code}:${e.message}`;
    throw e;
  }
  return 'ok';
}

describe('parseCompare', () => {
  it('reads every target and operator', () => {
    expect(parseCompare('mod("tx1") > "0"')).toMatchObject({ target: 2, result: 1, mod_revision: 0n, target_union: 'mod_revision' });
    expect(parseCompare('c("k") = "5"')).toMatchObject({ target: 1, result: 0, create_revision: 5n });
    expect(parseCompare('ver("k") != "2"')).toMatchObject({ target: 0, result: 3, version: 2n });
    expect(parseCompare('value("k") < "a\\"b"')).toMatchObject({ target: 3, result: 2, value: Buffer.from('a"b') });
    expect(parseCompare('lease("k") = "0"')).toMatchObject({ target: 4, lease: 0n, key: Buffer.from('k') });
  });

  it("fails with etcdctl's messages and exit codes", () => {
    expect(failure('foo("a") = "1"')).toBe('3:malformed comparison: foo("a") = "1" (unknown target foo)');
    expect(failure('mod("a") = "x"')).toBe('3:invalid txn compare request: mod("a") = "x"');
    expect(failure('mod(tx1) > "0"')).toBe('3:malformed comparison: mod(tx1) > "0"; got mod("")  ""');
    expect(failure('mod("tx1")>"0"')).toBe('3:malformed comparison: mod("tx1")>"0"; got mod("tx1")  ""');
    expect(failure('mod("tx1") > 0')).toBe('3:malformed comparison: mod("tx1") > 0; got mod("tx1") > ""');
    expect(failure('nothing')).toBe('3:malformed comparison: nothing');
  });
});

describe('argify', () => {
  it('splits on spaces, unquotes double-quoted Go strings, strips single quotes', () => {
    expect(argify('put "t 2" "quoted \\"value\\"\\n"')).toEqual(['put', 't 2', 'quoted "value"\n']);
    expect(argify("put 'a b' c --prev-kv")).toEqual(['put', 'a b', 'c', '--prev-kv']);
  });
});

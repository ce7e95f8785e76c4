/**
 * A revision (etcd mvcc revision.go): `main` is the store revision a write transaction
 * consumed; `sub` numbers the changes inside that transaction from 0. Revisions order by main,
 * then sub. On disk a revision is the MVCC record key (schema.ts mvccKey).
 */

export interface Revision {
  readonly main: bigint;
  readonly sub: bigint;
}

export function rev(main: bigint, sub = 0n): Revision {
  return { main, sub };
}

export function compareRev(a: Revision, b: Revision): number {
  if (a.main !== b.main) return a.main < b.main ? -1 : 1;
  if (a.sub !== b.sub) return a.sub < b.sub ? -1 : 1;
  return 0;
}

/** A string naming a revision, for maps and sets. */
export function revId(main: bigint, sub: bigint): string {
  return `${main}_${sub}`;
}

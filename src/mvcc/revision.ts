/**
 * A revision (etcd mvcc revision.go): `main` is the store revision a write transaction
 * consumed; `sub` numbers the changes inside that transaction from 0. Revisions order by main,
 * then sub. On disk a revision is the MVCC record key (schema.ts mvccKey).
 *
 * Inside the MVCC store revisions are numbers (exact below 2^53, which no store reaches: at a
 * million writes a second that is 285 years); the API edge keeps etcd's int64 as bigint.
 */

/** A map key naming a revision: one number for every realistic revision, a string beyond. */
export type RevKey = number | string;

export function revKey(main: number, sub: number): RevKey {
  return sub < 0x200000 && main < 0x1_0000_0000 ? main * 0x200000 + sub : `${main}_${sub}`;
}

export function compareRev(am: number, as: number, bm: number, bs: number): number {
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/**
 * Password hashing with bcrypt (etcd: golang.org/x/crypto/bcrypt at --bcrypt-cost), through the
 * npm `bcrypt` package: the maintained native binding (kelektiv/node.bcrypt.js, prebuilt binaries
 * shipped in the package). Its async calls run on libuv's thread pool, so a cost-10 hash (~50 ms)
 * never stalls the event loop that drives Raft and serves every other client; a pure-JS bcrypt
 * would burn that time on the main thread.
 */
import bcrypt from 'bcrypt';

/** bcrypt's cost bounds (Go's bcrypt.MinCost / MaxCost). */
export const bcryptCostMin = 4;
export const bcryptCostMax = 31;

export async function hashPassword(password: string, cost: number): Promise<Buffer> {
  return Buffer.from(await bcrypt.hash(password, cost));
}

/** False for a wrong password and for a hash that is not bcrypt's. */
export async function passwordMatches(password: string, hash: Buffer): Promise<boolean> {
  if (hash.length === 0) return false;
  try {
    return await bcrypt.compare(password, hash.toString('latin1'));
  } catch {
    return false;
  }
}

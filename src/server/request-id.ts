/**
 * Unique ids for internal requests, as etcd's pkg/idutil: the top 16 bits are the low 16 bits
 * of the member id, the low 48 bits start from the wall-clock milliseconds (low 40 bits) shifted
 * by 8 and count up. Unique per member across restarts unless the clock goes back by more than
 * the number of ids issued — the same trade-off etcd makes.
 */
const suffixBits = 48n;
const suffixMask = (1n << suffixBits) - 1n;

export class RequestIdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << suffixBits;
    this.suffix = (BigInt(Math.floor(nowMs)) & ((1n << 40n) - 1n)) << 8n;
  }

  next(): bigint {
    this.suffix = (this.suffix + 1n) & suffixMask;
    return this.prefix | this.suffix;
  }
}

/** The write-ahead log: replay, tail overwrite, torn tails, corruption, floors, rotation. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileIo, inlineWriteBytesMax, inlineWriteSlowMs } from '../../../src/storage/disk.js';
import { crc32, type LogEntry, Wal, WalCorruptError } from '../../../src/storage/wal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'wal-'));
  dirs.push(d);
  return d;
}
const ent = (index: number, term: number, data = `e${index}`): LogEntry => ({ index: BigInt(index), term: BigInt(term), type: 0, data: Buffer.from(data) });
const show = (es: LogEntry[]): string[] => es.map((e) => `${e.index}/${e.term}/${Buffer.from(e.data).toString()}`);

describe('wal', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('replays entries and the latest hard state after reopening', async () => {
    const d = dir();
    const { wal } = await Wal.open(d);
    await wal.save({ term: 1n, vote: 7n, commit: 0n }, [ent(1, 1), ent(2, 1)], true);
    await wal.save({ term: 2n, vote: 9n, commit: 2n }, [ent(3, 2)], true);
    await wal.close();
    const again = await Wal.open(d);
    expect(again.state.hardState).toEqual({ term: 2n, vote: 9n, commit: 2n });
    expect(show(again.state.entries)).toEqual(['1/1/e1', '2/1/e2', '3/2/e3']);
    expect(again.wal.lastIndex()).toBe(3n);
    await again.wal.close();
  });

  it('an append at an earlier index replaces the conflicting tail (Raft §5.3)', async () => {
    const d = dir();
    const { wal } = await Wal.open(d);
    await wal.save(undefined, [ent(1, 1), ent(2, 1), ent(3, 1)], true);
    await wal.save(undefined, [ent(2, 2, 'x')], true);
    await wal.close();
    const again = await Wal.open(d);
    expect(show(again.state.entries)).toEqual(['1/1/e1', '2/2/x']);
    await again.wal.close();
  });

  it('cuts a torn last record off and keeps appending after it', async () => {
    const d = dir();
    const { wal } = await Wal.open(d);
    await wal.save(undefined, [ent(1, 1), ent(2, 1)], true);
    const good = wal.dataBytes();
    await wal.close();
    const [file] = wal.files();
    // A crash mid-append: a header promising more bytes than made it to disk.
    const fd = openSync(file as string, 'r+');
    writeSync(fd, Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 9, 9]), 0, 10, good);
    closeSync(fd);
    const again = await Wal.open(d);
    expect(show(again.state.entries)).toEqual(['1/1/e1', '2/1/e2']);
    expect(again.wal.dataBytes()).toBe(good);
    expect(readFileSync(file as string).subarray(good, good + 10).every((b) => b === 0)).toBe(true);
    await again.wal.save(undefined, [ent(3, 1)], true);
    await again.wal.close();
    expect(show((await Wal.open(d)).state.entries)).toEqual(['1/1/e1', '2/1/e2', '3/1/e3']);
  });

  // Found by the fault harness (disk fault on a tmpfs): write() wrote what fit and returned the
  // count, save() took it as durable, the member acknowledged entries it then lost on restart,
  // and the leader's next heartbeat failed it with "tocommit(305) is out of range [lastIndex(304)]".
  // Small writes run inline (writeSync), large ones on the threadpool (write): both paths.
  for (const [path, size] of [['inline', 4], ['threadpool', inlineWriteBytesMax + 1]] as const) {
    it(`a short write (the disk filled up mid-append) fails the save: a torn record is never acknowledged (${path})`, async () => {
      const d = dir();
      const { wal } = await Wal.open(d, 1 << 20);
      await wal.save(undefined, [ent(1, 1)], true);
      const real = { ...fileIo };
      let calls = 0;
      // As the kernel does on a full disk: a short count first, then ENOSPC.
      const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      fileIo.writeSync = ((fd: number, b: Uint8Array, o: number, l: number, p: number) => {
        if (calls++ === 0) return real.writeSync(fd, b, o, Math.floor(l / 2), p);
        throw enospc();
      }) as typeof fileIo.writeSync;
      fileIo.write = ((fd: number, b: Uint8Array, o: number, l: number, p: number, cb: (e: Error | null, n: number) => void) => {
        if (calls++ === 0) return real.write(fd, b, o, Math.floor(l / 2), p, cb);
        cb(enospc(), 0);
      }) as typeof fileIo.write;
      try {
        const big = 'x'.repeat(size);
        await expect(wal.save(undefined, [ent(2, 1, `e2${big}`), ent(3, 1, `e3${big}`)], true)).rejects.toThrow(/ENOSPC/);
      } finally {
        Object.assign(fileIo, real);
      }
      expect(calls).toBe(2);
      await wal.close();
      // What did make it whole (e2, in the first half) may survive; it was never acknowledged.
      const again = await Wal.open(d, 1 << 20);
      expect(show(again.state.entries).map((x) => x.slice(0, 8))).toEqual(['1/1/e1', '2/1/e2xx']);
      await again.wal.close();
    });
  }

  it('a slow inline write sends the next small writes to the threadpool until one is fast again', async () => {
    const d = dir();
    const { wal } = await Wal.open(d);
    const real = { ...fileIo };
    const seen: string[] = [];
    // A fake clock: a write takes what the test says, however busy the machine is.
    let clock = 0;
    let slow = true;
    fileIo.now = () => clock;
    fileIo.writeSync = ((...a: Parameters<typeof fileIo.writeSync>) => {
      seen.push('inline');
      clock += slow ? inlineWriteSlowMs + 1 : 0.3;
      return real.writeSync(...a);
    }) as typeof fileIo.writeSync;
    fileIo.write = ((...a: Parameters<typeof fileIo.write>) => {
      seen.push('threadpool');
      clock += 0.3;
      return (real.write as (...x: unknown[]) => void)(...a);
    }) as typeof fileIo.write;
    try {
      await wal.save(undefined, [ent(1, 1)], true);
      slow = false;
      await wal.save(undefined, [ent(2, 1)], true);
      await wal.save(undefined, [ent(3, 1)], true);
    } finally {
      Object.assign(fileIo, real);
    }
    expect(seen).toEqual(['inline', 'threadpool', 'inline']);
    await wal.close();
    expect(show((await Wal.open(d)).state.entries)).toEqual(['1/1/e1', '2/1/e2', '3/1/e3']);
  });

  it('refuses to open when a sealed segment is corrupt', async () => {
    const d = dir();
    const { wal } = await Wal.open(d, 64);
    for (let i = 1; i <= 6; i++) await wal.save({ term: 1n, vote: 0n, commit: BigInt(i) }, [ent(i, 1)], true);
    await wal.close();
    expect(wal.files().length).toBeGreaterThan(1);
    const first = wal.files()[0] as string;
    const b = readFileSync(first);
    b[b.length - 1] = (b[b.length - 1] as number) ^ 0xff; // flip a payload bit of the last record of a sealed segment
    writeFileSync(first, b);
    await expect(Wal.open(d, 64)).rejects.toBeInstanceOf(WalCorruptError);
  });

  it('a floor (snapshot install) drops every entry before it; entries resume after it', async () => {
    const d = dir();
    const { wal } = await Wal.open(d);
    await wal.save(undefined, [ent(1, 1), ent(2, 1), ent(3, 1)], true);
    await wal.save({ term: 3n, vote: 0n, commit: 10n }, [ent(11, 3)], true, 10n);
    await wal.close();
    const again = await Wal.open(d);
    expect(show(again.state.entries)).toEqual(['11/3/e11']);
    expect(again.state.hardState.commit).toBe(10n);
    await again.wal.close();
  });

  it('rotates segments; compaction deletes old ones and never loses the hard state', async () => {
    const d = dir();
    const { wal } = await Wal.open(d, 200);
    await wal.save({ term: 5n, vote: 2n, commit: 0n }, [], true);
    for (let i = 1; i <= 40; i++) await wal.save(undefined, [ent(i, 5, 'x'.repeat(20))], true);
    const before = wal.files().length;
    expect(before).toBeGreaterThan(3);
    await wal.compact(30n);
    expect(wal.files().length).toBeLessThan(before);
    await wal.close();
    const again = await Wal.open(d, 200);
    expect(again.state.hardState).toEqual({ term: 5n, vote: 2n, commit: 0n });
    const idx = again.state.entries.map((e) => Number(e.index));
    expect(idx[idx.length - 1]).toBe(40);
    expect(idx[0]).toBeLessThanOrEqual(30);
    for (let k = 1; k < idx.length; k++) expect(idx[k]).toBe((idx[k - 1] as number) + 1);
    await again.wal.close();
  });
});

/**
 * A write load over real members that records every acknowledged write, and the check that
 * each acknowledged write is there with the revision it was acknowledged with.
 */
import { expect } from 'vitest';
import { TestKv } from './kv-client.js';

/** Writes keys load/<c>/<i> from `clients` clients round-robin over `endpoints`, recording acks. */
export function writeLoad(endpoints: string[], clients: number, acked: Map<string, string>, stop: { v: boolean }): Promise<void> {
  return Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const kv = new TestKv(endpoints[c % endpoints.length] as string);
      for (let i = 0; !stop.v; i++) {
        const key = `load/${c}/${i}`;
        try {
          const r = await kv.put(key, `v${i}`);
          acked.set(key, r.header.revision);
        } catch {
          await new Promise((r) => setTimeout(r, 50)); // leader change: retry a new key
        }
      }
      kv.close();
    }),
  ).then(() => undefined);
}

export async function expectAllAcked(endpoint: string, acked: Map<string, string>): Promise<void> {
  const kv = new TestKv(endpoint);
  const all = await kv.range('load/', 'load0');
  kv.close();
  const got = new Map(all.kvs.map((x) => [x.key.toString(), String(x.mod_revision)]));
  const missing = [...acked].filter(([k, rev]) => got.get(k) !== rev);
  expect({ acked: acked.size, missing: missing.slice(0, 5) }).toEqual({ acked: acked.size, missing: [] });
}

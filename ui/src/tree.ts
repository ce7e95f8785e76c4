/**
 * The key tree: etcd has a flat, sorted key space; the page shows it as folders by "/". A
 * folder's children are found with keys-only ranges of at most `pageKeys` keys, and a whole
 * sub-folder is stepped over with one jump to the end of its prefix, so listing a folder costs
 * about one request per child folder plus one per `pageKeys` plain keys, whatever lies deeper
 * (a million keys under one child folder cost one request). At most `maxChildren` children are
 * listed at once; `next` says where the following page starts.
 */
import { keyAfter, prefixEnd, slash, startsWith, type Bytes } from './bytes.js';

export interface TreeChild {
  /** The whole key of a plain key; for a folder, the prefix ending in "/". */
  key: Bytes;
  isDir: boolean;
}

export interface ChildPage {
  children: TreeChild[];
  /** Where the next page of this folder starts, or null when it is complete. */
  next: Bytes | null;
}

/** One keys-only range [key, rangeEnd) of at most limit keys, in key order. */
export type KeysPage = (key: Bytes, rangeEnd: Bytes, limit: number) => Promise<{ keys: Bytes[]; more: boolean }>;

export interface ListOptions {
  pageKeys?: number;
  maxChildren?: number;
}

/** The root folder's range: every key (etcd: key "\0", range_end "\0"). */
const everything = new Uint8Array([0]);

export async function listChildren(range: KeysPage, prefix: Bytes, from: Bytes | null = null, o: ListOptions = {}): Promise<ChildPage> {
  const pageKeys = o.pageKeys ?? 500;
  const maxChildren = o.maxChildren ?? 200;
  const end = prefix.length === 0 ? everything : prefixEnd(prefix);
  let start = from ?? (prefix.length === 0 ? everything : prefix);
  const children: TreeChild[] = [];
  for (;;) {
    const page = await range(start, end, pageKeys);
    let folder: Bytes | null = null;
    for (const key of page.keys) {
      if (folder !== null && startsWith(key, folder)) continue;
      if (children.length >= maxChildren) return { children, next: key };
      const cut = key.indexOf(slash, prefix.length);
      if (cut < 0) {
        children.push({ key, isDir: false });
        folder = null;
      } else {
        folder = key.slice(0, cut + 1);
        children.push({ key: folder, isDir: true });
      }
    }
    const last = page.keys[page.keys.length - 1];
    if (!page.more || last === undefined) return { children, next: null };
    // Past the rest of the folder the page ended in, or just past the last key.
    start = folder !== null && startsWith(last, folder) ? prefixEnd(folder) : keyAfter(last);
    if (prefix.length > 0 && !startsWith(start, prefix)) return { children, next: null };
    if (children.length >= maxChildren) return { children, next: start };
  }
}

/** The name a child shows under its folder. */
export function childName(prefix: Bytes, child: TreeChild): Bytes {
  return child.key.subarray(prefix.length);
}


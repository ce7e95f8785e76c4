/**
 * etcd's types.NewURLs (client/pkg/types/urls.go), which both the server (MemberAdd,
 * MemberUpdate) and etcdctl (member add/update) use to check a list of peer URLs: at least one;
 * each trimmed, with scheme http, https, unix or unixs, a "host:port" address and no path.
 * Returns the URLs sorted (etcd keeps a member's peer URLs sorted) or the first problem, in
 * etcd's words.
 */
export type UrlsResult = { ok: true; urls: string[] } | { ok: false; error: string };

const schemes = new Set(['http', 'https', 'unix', 'unixs']);

/** Go's net.SplitHostPort accepts "host:port", "[v6]:port" (port may be empty). */
function hasHostPort(host: string): boolean {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 && host.charAt(end + 1) === ':' && !host.slice(end + 2).includes(':');
  }
  const k = host.lastIndexOf(':');
  return k >= 0 && !host.slice(0, k).includes(':') && !host.slice(0, k).includes('[') && !host.includes(']');
}

export function parseGoUrls(strs: readonly string[]): UrlsResult {
  if (strs.length === 0) return { ok: false, error: 'no valid URLs given' };
  const out: string[] = [];
  for (const raw of strs) {
    const s = raw.trim();
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(s);
    const scheme = m ? (m[1] as string).toLowerCase() : '';
    if (!schemes.has(scheme)) return { ok: false, error: `URL scheme must be http, https, unix, or unixs: ${s}` };
    let rest = (m as RegExpExecArray)[2] as string;
    rest = rest.replace(/[?#].*$/s, '');
    let host = '';
    if (rest.startsWith('//')) {
      const slash = rest.indexOf('/', 2);
      const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
      rest = slash < 0 ? '' : rest.slice(slash);
      host = authority.slice(authority.lastIndexOf('@') + 1);
    }
    if (!hasHostPort(host)) return { ok: false, error: `URL address does not have the form "host:port": ${s}` };
    if (rest !== '') return { ok: false, error: `URL must not contain a path: ${s}` };
    out.push(s);
  }
  return { ok: true, urls: out.sort() };
}

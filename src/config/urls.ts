/**
 * URL lists as etcd reads them (pkg/types NewURLs over Go's url.Parse): comma separated, each
 * trimmed; the scheme must be http, https, unix or unixs; the host must be "host:port"; no path
 * (not even "/"). The list is sorted, and each URL's text is Go's url.String() (scheme lower
 * case, host as written), because that text feeds the member id hash (ids.ts). The reasons are
 * etcd's, so `--listen-client-urls foo` fails with the words etcd uses.
 */
import { ValueError } from './go-values.js';

export interface EtcdUrl {
  /** Go's url.String(): what etcd advertises, logs and hashes. */
  text: string;
  scheme: 'http' | 'https' | 'unix' | 'unixs';
  /** The host without brackets ("::1" for "[::1]:2380"). */
  hostname: string;
  port: string;
}

const schemeRe = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/** net.SplitHostPort's acceptance: "host:port", "[v6]:port"; a bare host or extra colons fail. */
function splitHostPort(hostport: string): { hostname: string; port: string } | undefined {
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0 || hostport[end + 1] !== ':') return undefined;
    return { hostname: hostport.slice(1, end), port: hostport.slice(end + 2) };
  }
  const colon = hostport.lastIndexOf(':');
  if (colon < 0 || hostport.indexOf(':') !== colon) return undefined;
  return { hostname: hostport.slice(0, colon), port: hostport.slice(colon + 1) };
}

export function parseEtcdUrl(input: string): EtcdUrl {
  const raw = input.trim();
  const parseFail = (why: string): ValueError => new ValueError(`parse ${JSON.stringify(raw)}: ${why}`);
  // Go's getScheme: letters first; a ':' before any scheme character means no scheme at all.
  let scheme = '';
  let rest = raw;
  const colon = raw.indexOf(':');
  if (colon === 0) throw parseFail('missing protocol scheme');
  if (colon > 0 && schemeRe.test(raw.slice(0, colon))) {
    scheme = raw.slice(0, colon).toLowerCase();
    rest = raw.slice(colon + 1);
  } else if (colon > 0) {
    const slash = raw.indexOf('/');
    if (slash < 0 || colon < slash) throw parseFail('first path segment in URL cannot contain colon');
  }
  let fragment = '';
  const hashAt = rest.indexOf('#');
  if (hashAt >= 0) {
    fragment = rest.slice(hashAt);
    rest = rest.slice(0, hashAt);
  }
  let query = '';
  const queryAt = rest.indexOf('?');
  if (queryAt >= 0) {
    query = rest.slice(queryAt);
    rest = rest.slice(0, queryAt);
  }
  let authority = '';
  let path = rest;
  let hasAuthority = false;
  if (scheme !== '' && rest.startsWith('//')) {
    hasAuthority = true;
    const slash = rest.indexOf('/', 2);
    authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    path = slash < 0 ? '' : rest.slice(slash);
  }
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at + 1) : '';
  const host = at >= 0 ? authority.slice(at + 1) : authority;
  // url.Parse rejects a non-numeric port before etcd sees the URL.
  const portMatch = /:([^\]:]*)$/.exec(host);
  if (portMatch && !/^[0-9]*$/.test(portMatch[1] ?? '') && !host.startsWith('[') && host.split(':').length === 2) {
    throw parseFail(`invalid port ${JSON.stringify(portMatch[0])} after host`);
  }
  const text = hasAuthority ? `${scheme}://${userinfo}${host}${path}${query}${fragment}` : raw;
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'unix' && scheme !== 'unixs') {
    throw new ValueError(`URL scheme must be http, https, unix, or unixs: ${raw}`);
  }
  const hp = splitHostPort(host);
  if (hp === undefined) throw new ValueError(`URL address does not have the form "host:port": ${raw}`);
  if (path !== '') throw new ValueError(`URL must not contain a path: ${raw}`);
  return { text, scheme, hostname: hp.hostname, port: hp.port };
}

/** The WHATWG form of a checked URL, for binding sockets. */
export function whatwgUrl(u: EtcdUrl): URL {
  try {
    return new URL(u.text);
  } catch {
    throw new ValueError(`parse ${JSON.stringify(u.text)}: invalid URL`);
  }
}

/**
 * A comma-separated URL list, sorted by text as etcd sorts it. The empty string is the empty list
 * (etcd accepts `--listen-metrics-urls ''`).
 */
export function parseEtcdUrls(value: string): EtcdUrl[] {
  if (value === '') return [];
  const urls = value.split(',').map(parseEtcdUrl);
  return urls.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}

/**
 * etcd's check on listen URLs (embed.checkBindURLs): a unix socket or "localhost", else an IP
 * literal, because a name could resolve to an address this machine does not have.
 */
export function bindUrlProblem(u: EtcdUrl): string | undefined {
  if (u.scheme === 'unix' || u.scheme === 'unixs') return undefined;
  if (u.hostname === 'localhost') return undefined;
  if (isIp(u.hostname)) return undefined;
  return `expected IP in URL for binding (${u.text})`;
}

/** A unix socket, "localhost" or a loopback address (127.0.0.0/8, ::1): reachable from this machine only. */
export function isLoopbackUrl(u: EtcdUrl): boolean {
  if (u.scheme === 'unix' || u.scheme === 'unixs') return true;
  const h = u.hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1';
}

function isIp(h: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(h)) return h.split('.').every((p) => Number(p) <= 255);
  // An IPv6 literal: let the WHATWG parser judge it.
  if (!h.includes(':')) return false;
  try {
    new URL(`http://[${h}]/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Endpoint strings as etcdctl accepts them: `host:port`, optionally with an `http://`,
 * `https://`, `unix://` or `unixs://` scheme (clientv3 endpoint.Interpret). The scheme decides
 * TLS; the gRPC target is the bare `host:port`.
 */

export interface Endpoint {
  /** As the user wrote it (etcdctl prints endpoints this way in endpoint health/status). */
  readonly given: string;
  /** host:port, the dial target and what clientv3 puts into its `target` log field. */
  readonly hostPort: string;
  readonly secure: boolean;
}

export function parseEndpoint(given: string): Endpoint {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(given);
  if (!m) return { given, hostPort: given, secure: false };
  const scheme = (m[1] as string).toLowerCase();
  const rest = (m[2] as string).replace(/\/.*$/, '');
  return { given, hostPort: rest, secure: scheme === 'https' || scheme === 'unixs' };
}

/** Splits a comma list (flag or env value) into trimmed, non-empty endpoint strings. */
export function splitEndpoints(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

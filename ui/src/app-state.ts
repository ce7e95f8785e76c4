/**
 * What every view shares: the gateway client of the member serving the page, and the hash
 * route. A test page may point the client at another member's URL before the app starts
 * (window.etcdtsConsoleApi), which is how the browser tests run this page against a real etcd.
 */
import { Gateway } from './api.js';

declare global {
  interface Window {
    etcdtsConsoleApi?: string;
  }
}

export const gw = new Gateway(typeof window === 'undefined' ? '' : (window.etcdtsConsoleApi ?? ''));

export type View = 'keys' | 'watch' | 'cluster' | 'leases' | 'metrics';
export const views: { id: View; title: string }[] = [
  { id: 'keys', title: 'Keys' },
  { id: 'watch', title: 'Watch' },
  { id: 'cluster', title: 'Cluster' },
  { id: 'leases', title: 'Leases' },
  { id: 'metrics', title: 'Metrics' },
];

export interface Route {
  view: View;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const view = (views.find((v) => v.id === path)?.id ?? 'keys') as View;
  return { view, params: new URLSearchParams(query) };
}

export function routeHref(view: View, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return `#/${view}${q === '' ? '' : `?${q}`}`;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

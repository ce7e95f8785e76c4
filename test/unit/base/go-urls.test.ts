import { describe, expect, it } from 'vitest';
import { parseGoUrls } from '../../../src/base/go-urls.js';

describe("etcd's types.NewURLs checks of peer URLs (texts as etcdctl 3.4.23 prints them)", () => {
  it('accepts http(s)/unix(s) host:port URLs and sorts them', () => {
    expect(parseGoUrls(['http://b:2', ' https://a:1 ', 'http://[::1]:3', 'unix://x:0'])).toEqual({ ok: true, urls: ['http://[::1]:3', 'http://b:2', 'https://a:1', 'unix://x:0'] });
  });
  it('refuses with the first problem', () => {
    expect(parseGoUrls([])).toEqual({ ok: false, error: 'no valid URLs given' });
    expect(parseGoUrls(['foo'])).toEqual({ ok: false, error: 'URL scheme must be http, https, unix, or unixs: foo' });
    expect(parseGoUrls(['ftp://h:1'])).toEqual({ ok: false, error: 'URL scheme must be http, https, unix, or unixs: ftp://h:1' });
    expect(parseGoUrls(['http://127.0.0.1'])).toEqual({ ok: false, error: 'URL address does not have the form "host:port": http://127.0.0.1' });
    expect(parseGoUrls(['http://127.0.0.1:2/path'])).toEqual({ ok: false, error: 'URL must not contain a path: http://127.0.0.1:2/path' });
  });
});

/**
 * etcdts web console: the app shell (navigation by URL hash, login when auth is enabled, the
 * member's revision in the header) around the five views.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Code, GatewayError, needsLogin } from './api.js';
import { errorText, gw, parseRoute, routeHref, views, type Route } from './app-state.js';
import { idHex } from './bytes.js';
import { MetricsSampler, type Sample } from './metrics.js';
import { ClusterView } from './views/cluster.js';
import { KeysView } from './views/keys.js';
import { LeasesView } from './views/leases.js';
import { MetricsView } from './views/metrics.js';
import { WatchView } from './views/watch.js';
import { ConfirmHost, NoticeHost, usePoll } from './widgets.js';

const tokenKey = 'etcdts-console-token';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Login({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      await gw.login(name, password);
      sessionStorage.setItem(tokenKey, gw.token ?? '');
      onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">Log in</h1>
        <p class="muted">Authentication is enabled on this cluster.</p>
        <label>
          User
          <input name="user" autocomplete="username" value={name} required autofocus onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<'checking' | 'open' | 'login' | 'in'>('checking');
  const [problem, setProblem] = useState<string | null>(null);
  const [failures, setFailures] = useState(0);
  const [session, setSession] = useState(0);
  const sampler = useRef(new MetricsSampler(gw));
  const [samples, setSamples] = useState<Sample[]>([]);
  const [head, setHead] = useState<{ revision: string; leader: string; member: string } | null>(null);

  const probe = async (): Promise<void> => {
    try {
      // Any read tells whether a token is needed (etcd: "user name is empty" without one).
      await gw.range(new Uint8Array([0]), { limit: 1, keysOnly: true, serializable: true });
      setAuth(gw.token === null ? 'open' : 'in');
      setProblem(null);
    } catch (e) {
      if (needsLogin(e)) setAuth('login');
      // A user without read permission on that key is still logged in (etcdctl endpoint health
      // counts PermissionDenied as healthy for the same reason).
      else if (e instanceof GatewayError && e.code === Code.PermissionDenied) setAuth(gw.token === null ? 'open' : 'in');
      else {
        setProblem(
          e instanceof GatewayError && e.httpStatus === 404
            ? 'This member serves no JSON gateway (/v3/...), which the console needs (etcd: --enable-grpc-gateway).'
            : `Cannot reach the member: ${errorText(e)}`,
        );
        setFailures((n) => n + 1);
        setAuth('open');
      }
    }
  };
  // Until the member answers (it may be starting or restarting), ask again every few seconds.
  useEffect(() => {
    if (problem === null) return undefined;
    const t = setTimeout(() => void probe(), 3000);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [problem, failures]);
  useEffect(() => {
    gw.token = sessionStorage.getItem(tokenKey) || null;
    gw.onLoginNeeded = () => {
      sessionStorage.removeItem(tokenKey);
      setAuth('login');
    };
    void probe();
  }, []);

  usePoll(
    async () => {
      if (auth !== 'open' && auth !== 'in') return;
      await sampler.current.sample();
      setSamples([...sampler.current.samples]);
      const st = sampler.current.status;
      if (st) setHead({ revision: st.header.revision ?? '?', leader: st.leader ?? '0', member: st.header.member_id ?? '' });
    },
    2000,
    [auth],
  );

  if (auth === 'checking') return <p class="muted pad">Connecting…</p>;
  if (auth === 'login')
    return (
      <>
        <Login onDone={() => (setAuth('in'), setSession((s) => s + 1))} />
        <NoticeHost />
      </>
    );
  const logout = (): void => {
    gw.logout();
    sessionStorage.removeItem(tokenKey);
    setAuth('login');
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">etcdts</span>
        <nav aria-label="Views">
          {views.map((v) => (
            <a href={routeHref(v.id)} aria-current={route.view === v.id ? 'page' : undefined}>
              {v.title}
            </a>
          ))}
        </nav>
        <span class="head-info muted" aria-live="off">
          {head ? `rev ${head.revision} · ${head.leader === '0' ? 'no leader' : head.leader === head.member ? 'leader' : `leader ${idHex(head.leader).slice(-6)}`}` : ''}
        </span>
        {auth === 'in' && (
          <button type="button" onClick={logout}>
            Log out
          </button>
        )}
      </header>
      {problem && (
        <p class="error pad" role="alert">
          {problem}
        </p>
      )}
      <main id="main" key={session} tabIndex={-1}>
        {route.view === 'keys' && <KeysView params={route.params} />}
        {route.view === 'watch' && <WatchView params={route.params} />}
        {route.view === 'cluster' && <ClusterView />}
        {route.view === 'leases' && <LeasesView params={route.params} />}
        {route.view === 'metrics' && <MetricsView sampler={sampler.current} samples={samples} />}
      </main>
      <ConfirmHost />
      <NoticeHost />
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);

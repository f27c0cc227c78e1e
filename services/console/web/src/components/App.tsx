// The console shell: asks GET /api/session, shows the login page on 401 (and again whenever an
// API call answers 401), else the navigation and the page of the current route.
import { useEffect, useState } from 'preact/hooks';
import { getSession, logout, setUnauthorizedHandler, type Session } from '../api';
import { useRoute } from '../hooks/useRoute';
import { ROUTES } from '../router';
import { Nav } from './Nav';
import { ErrorBox, Loading } from './Status';
import { Login } from '../pages/Login';
import { Dashboard } from '../pages/Dashboard';
import { Streams } from '../pages/Streams';
import { Events } from '../pages/Events';
import { Faces } from '../pages/Faces';
import { Try } from '../pages/Try';
import { Trends } from '../pages/Trends';
import { Cost } from '../pages/Cost';

const PAGES = { '/': Dashboard, '/streams': Streams, '/events': Events, '/faces': Faces, '/try': Try,
                '/trends': Trends, '/cost': Cost } as const;

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const route = useRoute();

  const check = () => {
    setError(null);
    getSession().then(setSession, (e) => { setError(e); });
  };
  useEffect(() => {
    setUnauthorizedHandler(() => setSession(null));
    check();
  }, []);
  useEffect(() => {
    const t = ROUTES.find((r) => r.path === route)?.title ?? 'Not found';
    document.title = `${t} · Stratus console`;
  }, [route]);

  if (error) return <main class="center"><ErrorBox error={error} retry={check} /></main>;
  if (session === undefined) return <main class="center"><Loading what="Checking the session" /></main>;
  if (session === null) return <Login onLogin={setSession} />;

  const Page = route === 'notfound' ? null : PAGES[route];
  const onLogout = () => logout().catch(() => {}).finally(() => setSession(null));
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <Nav route={route} session={session} onLogout={onLogout} />
      <main id="main" tabIndex={-1}>
        {Page ? <Page key={route} /> : (
          <section><h1>Not found</h1><p>No page here. <a href="/">Go to the dashboard</a>.</p></section>
        )}
      </main>
    </>
  );
}

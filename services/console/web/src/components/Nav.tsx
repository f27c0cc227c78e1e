// The top navigation: one link per route (aria-current on the active one), the session's key
// name and a logout button. Wraps on narrow screens.
import type { Session } from '../api';
import { ROUTES, type RoutePath } from '../router';

const testid = (path: string) => `nav-${path === '/' ? 'dashboard' : path.slice(1)}`;

export function Nav({ route, session, onLogout }: { route: RoutePath; session: Session; onLogout: () => void }) {
  return (
    <header class="top">
      <a class="brand" href="/" aria-label="Stratus console home">Stratus</a>
      <nav aria-label="Main">
        <ul>
          {ROUTES.map((r) => (
            <li key={r.path}>
              <a href={r.path} data-testid={testid(r.path)} aria-current={route === r.path ? 'page' : undefined}>{r.title}</a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="who">
        <span class="muted" title={`key ${session.keyId}`}>{session.name || session.keyId}</span>
        <button type="button" class="small secondary" data-testid="logout" onClick={onLogout}>Log out</button>
      </div>
    </header>
  );
}

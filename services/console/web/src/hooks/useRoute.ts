// The current route (History API): useRoute() re-renders on navigation, navigate() pushes a
// path, and a document-level click handler routes plain clicks on same-origin <a> links.
import { useEffect, useState } from 'preact/hooks';
import { routeOf, shouldRoute, type RoutePath } from '../router';

const EVT = 'stratus:navigate';

export function navigate(path: string) {
  if (path !== location.pathname + location.search) history.pushState(null, '', path);
  window.dispatchEvent(new Event(EVT));
}

export function useRoute(): RoutePath {
  const [route, setRoute] = useState(() => routeOf(location.pathname));
  useEffect(() => {
    const update = () => setRoute(routeOf(location.pathname));
    const onClick = (e: MouseEvent) => {
      const a = (e.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
      if (!a || a.hasAttribute('download')) return;
      if (!shouldRoute(e, a.href, a.getAttribute('target'), location.origin)) return;
      e.preventDefault();
      navigate(a.pathname + a.search);
      window.scrollTo(0, 0);
    };
    window.addEventListener('popstate', update);
    window.addEventListener(EVT, update);
    document.addEventListener('click', onClick);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(EVT, update);
      document.removeEventListener('click', onClick);
    };
  }, []);
  return route;
}

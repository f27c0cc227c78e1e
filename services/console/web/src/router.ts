// Client-side routes of the console (History API): the known paths, the route of a location's
// pathname (unknown ones are 'notfound'), and whether a click on a link should be routed here
// instead of followed by the browser.
export const ROUTES = [
  { path: '/', title: 'Dashboard' },
  { path: '/streams', title: 'Streams' },
  { path: '/events', title: 'Events' },
  { path: '/faces', title: 'Faces' },
  { path: '/try', title: 'Try it' },
  { path: '/trends', title: 'Trends' },
  { path: '/cost', title: 'Cost' },
] as const;
export type RoutePath = (typeof ROUTES)[number]['path'] | 'notfound';

// "/streams/" and "/streams" are the same route; "/index.html" is the dashboard.
export function routeOf(pathname: string): RoutePath {
  let p = pathname.replace(/\/+$/, '') || '/';
  if (p === '/index.html') p = '/';
  return (ROUTES.find((r) => r.path === p)?.path ?? 'notfound') as RoutePath;
}

// A plain left click without modifier keys on a same-origin link without a target.
export function shouldRoute(e: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; altKey: boolean;
                                 defaultPrevented: boolean }, href: string, target: string | null, origin: string): boolean {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return false;
  if (target && target !== '_self') return false;
  try {
    const u = new URL(href, origin);
    return u.origin === origin && !u.pathname.startsWith('/api/') && u.pathname !== '/login';
  } catch { return false; }
}

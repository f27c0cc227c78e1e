// API client of the console's JSON API (docs/console/api.md): a fetch wrapper that adds
// X-CSRF-Token to state-changing requests from the current session and turns error bodies
// {"error":{code,message,reason,metadata}} into ApiError.
export interface Session { keyId: string; name: string; scopes: { service: string; level: string }[]; csrfToken: string }

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string,
              public reason = '', public metadata: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
  }
}

type Fetch = typeof fetch;
let csrfToken = '';
export function setCsrfToken(t: string) { csrfToken = t; }
// Called when a request other than the session's own answers 401 (the session expired or was
// logged out elsewhere): the app shows the login page again.
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void) { onUnauthorized = f; }

export async function toApiError(res: Response): Promise<ApiError> {
  let body: any = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const e = body && typeof body === 'object' ? body.error : null;
  if (e && typeof e === 'object') {
    return new ApiError(res.status, String(e.code ?? 'UNKNOWN'), String(e.message ?? res.statusText),
                        String(e.reason ?? ''), e.metadata && typeof e.metadata === 'object' ? e.metadata : {});
  }
  return new ApiError(res.status, res.status === 401 ? 'UNAUTHENTICATED' : 'UNKNOWN',
                      `HTTP ${res.status} ${res.statusText}`.trim());
}

export async function request<T>(method: string, path: string, body?: unknown, f: Fetch = fetch): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const exempt = method === 'POST' && path === '/api/session';
  if (method !== 'GET' && method !== 'HEAD' && !exempt && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await f(path, { method, headers, credentials: 'same-origin',
                              body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const err = await toApiError(res);
    if (res.status === 401 && path !== '/api/session') onUnauthorized();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const rpc = <T = any>(service: string, method: string, req: unknown = {}, f?: Fetch) =>
  request<T>('POST', `/api/rpc/stratus.v1.${service}/${method}`, req, f);

export async function getSession(f?: Fetch): Promise<Session | null> {
  try {
    const s = await request<Session>('GET', '/api/session', undefined, f);
    setCsrfToken(s.csrfToken);
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function login(apiKey: string, f?: Fetch): Promise<Session> {
  const s = await request<Session>('POST', '/api/session', { apiKey }, f);
  setCsrfToken(s.csrfToken);
  return s;
}

export const logout = (f?: Fetch) => request<void>('DELETE', '/api/session', undefined, f);

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
export const fileToBase64 = async (file: Blob) => toBase64(new Uint8Array(await file.arrayBuffer()));

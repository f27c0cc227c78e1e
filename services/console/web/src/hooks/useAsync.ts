// Loading state of an async call: {data, error, loading, reload}. The call re-runs when `deps`
// change or on reload(); an answer of a superseded run is dropped. With `pollMs`, it re-runs
// that often while the page is visible, keeping the last data during the refresh.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Async<T> { data: T | undefined; error: unknown; loading: boolean; reload: () => void }

export function useAsync<T>(fn: () => Promise<T>, deps: unknown[] = [], pollMs = 0): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>(
    { data: undefined, error: null, loading: true });
  const run = useRef(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const load = useCallback(() => {
    const id = ++run.current;
    setState((s) => ({ ...s, loading: true }));
    fnRef.current().then(
      (data) => { if (id === run.current) setState({ data, error: null, loading: false }); },
      (error) => { if (id === run.current) setState((s) => ({ data: s.data, error, loading: false })); });
  }, []);
  useEffect(() => {
    load();
    if (!pollMs) return;
    const t = setInterval(() => { if (document.visibilityState === 'visible') load(); }, pollMs);
    return () => clearInterval(t);
  }, deps);
  useEffect(() => () => { run.current++; }, []);
  return { ...state, reload: load };
}

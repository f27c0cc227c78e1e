// Loading, error and empty states shared by the pages.
import type { ComponentChildren } from 'preact';
import { ApiError } from '../api';

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message}${e.code && e.code !== 'UNKNOWN' ? ` (${e.code}${e.reason ? `, ${e.reason}` : ''})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

export const Loading = ({ what = 'Loading' }: { what?: string }) => (
  <p class="muted loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true" />{what}…</p>
);

export function ErrorBox({ error, retry, testid }: { error: unknown; retry?: () => void; testid?: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert" data-testid={testid}>
      <span>{errorText(error)}</span>
      {retry && <button type="button" class="small" onClick={retry}>Retry</button>}
    </div>
  );
}

export const Empty = ({ children }: { children: ComponentChildren }) => <p class="muted empty">{children}</p>;

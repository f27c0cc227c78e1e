// Maps an API error to a form field: error.metadata.field when present (protobuf path, its last
// segment in camelCase), else a field named in the message, else the form ('' key).
import { ApiError } from './api';

export const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function fieldOfError(err: unknown, fields: string[]): { field: string; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ApiError && err.metadata?.field) {
    const last = camel(err.metadata.field.split('.').pop()!.replace(/\[\d+\]$/, ''));
    if (fields.includes(last)) return { field: last, message };
  }
  const lower = message.toLowerCase();
  const byLength = [...fields].sort((a, b) => b.length - a.length);
  for (const f of byLength) {
    const forms = [f, snake(f)].map((x) => x.toLowerCase());
    if (forms.some((x) => new RegExp(`(^|[^a-z0-9_])${x}([^a-z0-9_]|$)`).test(lower))) return { field: f, message };
  }
  return { field: '', message };
}

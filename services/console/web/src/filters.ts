// Event filters of the Events page: the ListEvents request, the /api/live/events query and the
// client-side label match (ListEvents has no label filter).
export interface EventFilter { stream: string; types: string[]; label: string; start: string; end: string }

// datetime-local ("2026-12-02T09:00") or ISO -> RFC 3339 UTC, '' when empty/invalid.
export function toTimestamp(v: string): string {
  if (!v) return '';
  const d = new Date(v);
  return isNaN(d.getTime()) ? '' : d.toISOString();
}

export function listEventsRequest(f: EventFilter, pageToken = '', pageSize = 100): Record<string, unknown> {
  const r: Record<string, unknown> = { pageSize, newestFirst: true };
  if (f.stream) r.stream = f.stream;
  if (f.types.length) r.types = [...f.types];
  const s = toTimestamp(f.start), e = toTimestamp(f.end);
  if (s) r.start = s;
  if (e) r.end = e;
  if (pageToken) r.pageToken = pageToken;
  return r;
}

export function liveQuery(f: EventFilter, afterId = ''): string {
  const p = new URLSearchParams();
  if (f.stream) p.set('streams', f.stream);
  if (f.types.length) p.set('types', f.types.join(','));
  if (afterId) p.set('afterId', afterId);
  return p.toString();
}

export function matchesFilter(ev: any, f: EventFilter): boolean {
  if (f.stream && ev.stream !== f.stream) return false;
  if (f.types.length && !f.types.includes(ev.type)) return false;
  if (f.label) {
    const want = f.label.toLowerCase();
    const labels: string[] = [...(ev.labels ?? []), ev.externalImageId ?? ''];
    if (!labels.some((l) => String(l).toLowerCase().includes(want))) return false;
  }
  const t = Date.parse(ev.time ?? '');
  const s = toTimestamp(f.start), e = toTimestamp(f.end);
  if (s && !(t >= Date.parse(s))) return false;
  if (e && !(t < Date.parse(e))) return false;
  return true;
}

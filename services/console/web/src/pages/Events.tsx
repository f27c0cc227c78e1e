// Events (/events): the timeline of IngestService/ListEvents, newest first and paged, with
// snapshot thumbnails (/api/snapshot), filters (stream, types, label, time range; filters.ts),
// "live follow" (SSE /api/live/events, new events on top), and a view of one event's snapshot
// with its boxes drawn.
import { useEffect, useRef, useState } from 'preact/hooks';
import { rpc } from '../api';
import { listEventsRequest, liveQuery, matchesFilter, type EventFilter } from '../filters';
import { ratioBox } from '../geometry';
import { watchEvents } from '../sse';
import { useAsync } from '../hooks/useAsync';
import { AnnotatedImage } from '../components/AnnotatedImage';
import { Empty, ErrorBox, Loading } from '../components/Status';
import { enumLabel, fmtFrac, fmtPct, fmtTime } from '../format';

const TYPES = ['PERSON_APPEARED', 'PERSON_LEFT', 'FACE_MATCHED', 'FACE_WITHOUT_MASK', 'OBJECT_DETECTED', 'STREAM_STATE'];
const snapshotUrl = (ref: string) => `/api/snapshot?ref=${encodeURIComponent(ref)}`;
const MAX_SHOWN = 2000;

function summary(ev: any): string {
  switch (ev.type) {
    case 'FACE_MATCHED': return `${ev.externalImageId || ev.faceId} in ${ev.collectionId} (${fmtPct(ev.similarity)})`;
    case 'STREAM_STATE': return `${enumLabel(ev.state)}${ev.detail ? `: ${ev.detail}` : ''}`;
    default: return (ev.labels ?? []).map((l: string, i: number) =>
      `${enumLabel(l)}${ev.confidences?.[i] !== undefined ? ` ${fmtFrac(ev.confidences[i])}` : ''}`).join(', ');
  }
}

function EventDetail({ ev, onClose }: { ev: any; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) { if (typeof d.showModal === 'function') d.showModal(); else d.setAttribute('open', ''); }
  }, []);
  const boxes = (ev.boxes ?? []).map((b: any, i: number) => ({
    box: ratioBox(b),
    caption: `${enumLabel(ev.labels?.[i] ?? '')}${ev.confidences?.[i] !== undefined ? ` ${fmtFrac(ev.confidences[i])}` : ''}`,
    tone: ev.type === 'FACE_WITHOUT_MASK' ? ('bad' as const) : ('info' as const),
  }));
  return (
    <dialog ref={ref} class="detail" data-testid="event-detail" aria-labelledby="h-event" onClose={onClose}
            onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <header class="row">
        <h2 id="h-event">{enumLabel(ev.type)} · {ev.stream}</h2>
        <button type="button" class="small secondary push" onClick={onClose} data-testid="event-detail-close" autoFocus>Close</button>
      </header>
      <p class="muted">{fmtTime(ev.time)} · event {ev.id}{ev.trackId && ev.trackId !== '0' ? ` · track ${ev.trackId}` : ''}</p>
      {ev.snapshotRef
        ? <AnnotatedImage src={snapshotUrl(ev.snapshotRef)} alt={`Snapshot of event ${ev.id}`} boxes={boxes}
                          testid="event-snapshot" overlayTestid="event-overlay" />
        : <Empty>No snapshot was kept for this event.</Empty>}
      <p>{summary(ev)}</p>
      {ev.replica && <p class="small muted">from {ev.replica}</p>}
    </dialog>
  );
}

export function Events() {
  const streams = useAsync(() => rpc<any>('IngestService', 'ListStreams', {}).then((r) => (r.streams ?? []).map((s: any) => s.config?.name as string)), []);
  const [draft, setDraft] = useState<EventFilter>({ stream: '', types: [], label: '', start: '', end: '' });
  const [filter, setFilter] = useState<EventFilter>(draft);
  const [events, setEvents] = useState<any[]>([]);
  const [next, setNext] = useState('');
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(false);
  const [liveError, setLiveError] = useState('');
  const [open, setOpen] = useState<any>(null);
  const opener = useRef<HTMLElement | null>(null);
  const gen = useRef(0);

  const load = async (f: EventFilter, token: string) => {
    const id = ++gen.current;
    setLoading(true); setError(null);
    try {
      const r = await rpc<any>('IngestService', 'ListEvents', listEventsRequest(f, token));
      if (id !== gen.current) return;
      const got = (r.events ?? []).filter((e: any) => matchesFilter(e, { ...f, start: '', end: '' }));
      setEvents((old) => (token ? [...old, ...got] : got));
      setNext(r.nextPageToken ?? '');
    } catch (e) { if (id === gen.current) setError(e); } finally { if (id === gen.current) setLoading(false); }
  };
  useEffect(() => { load(filter, ''); }, [filter]);

  // Live follow: after the newest event shown, then live; matching ones go on top.
  useEffect(() => {
    if (!follow) return;
    setLiveError('');
    const big = (v: any) => { try { return BigInt(v ?? 0); } catch { return 0n; } };
    const after = events.reduce((m, e) => (big(e.id) > m ? big(e.id) : m), 0n);
    return watchEvents(liveQuery(filter, after > 0n ? String(after) : ''), (ev) => {
      setLiveError('');
      if (!matchesFilter(ev, filter)) return;
      setEvents((old) => (old.some((o) => o.id === ev.id) ? old : [ev, ...old].slice(0, MAX_SHOWN)));
    }, setLiveError);
  }, [follow, filter]);

  const apply = (e: Event) => { e.preventDefault(); setFilter({ ...draft, types: [...draft.types] }); };
  const toggleType = (t: string, on: boolean) => setDraft({ ...draft, types: on ? [...draft.types, t] : draft.types.filter((x) => x !== t) });
  // Focus goes back to the row once the modal dialog (which makes the page inert) is gone.
  const close = () => { setOpen(null); setTimeout(() => opener.current?.focus()); };

  return (
    <>
      <h1>Events</h1>
      <form class="card filters" onSubmit={apply} aria-label="Event filters" data-testid="event-filters">
        <div class="grid four">
          <div class="field">
            <label for="ef-stream">Stream</label>
            <select id="ef-stream" data-testid="filter-stream" value={draft.stream} onChange={(e) => setDraft({ ...draft, stream: (e.target as HTMLSelectElement).value })}>
              <option value="">All streams</option>
              {(streams.data ?? []).map((s: string) => <option key={s} value={s}>{s}</option>)}
            </select>
          </div>
          <div class="field">
            <label for="ef-label">Label or name</label>
            <input id="ef-label" data-testid="filter-label" value={draft.label} placeholder="person, alice…"
                   onInput={(e) => setDraft({ ...draft, label: (e.target as HTMLInputElement).value })} />
          </div>
          <div class="field">
            <label for="ef-start">From</label>
            <input id="ef-start" type="datetime-local" data-testid="filter-start" value={draft.start}
                   onInput={(e) => setDraft({ ...draft, start: (e.target as HTMLInputElement).value })} />
          </div>
          <div class="field">
            <label for="ef-end">Until</label>
            <input id="ef-end" type="datetime-local" data-testid="filter-end" value={draft.end}
                   onInput={(e) => setDraft({ ...draft, end: (e.target as HTMLInputElement).value })} />
          </div>
        </div>
        <fieldset>
          <legend>Types</legend>
          <div class="checks">
            {TYPES.map((t) => (
              <label key={t} class="check">
                <input type="checkbox" data-testid={`filter-type-${t}`} checked={draft.types.includes(t)}
                       onChange={(e) => toggleType(t, (e.target as HTMLInputElement).checked)} />{enumLabel(t)}
              </label>
            ))}
          </div>
        </fieldset>
        <div class="row">
          <button type="submit" data-testid="filter-apply">Apply filters</button>
          <label class="check push">
            <input type="checkbox" role="switch" data-testid="live-follow" checked={follow}
                   onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} />
            Live follow
          </label>
          {follow && !liveError && <span class="badge ok" aria-live="polite">live</span>}
        </div>
        {liveError && <p class="field-error" role="alert" data-testid="live-error">Live follow: {liveError}</p>}
      </form>

      <section aria-labelledby="h-timeline">
        <h2 id="h-timeline">Timeline</h2>
        <ErrorBox error={error} retry={() => load(filter, '')} />
        {!loading && !error && !events.length && <Empty>No events match these filters.</Empty>}
        <ol class="timeline" data-testid="event-list">
          {events.map((ev) => (
            <li key={ev.id}>
              <button type="button" class="event" data-testid="event-row" data-event-id={ev.id} data-type={ev.type}
                      onClick={(e) => { opener.current = e.currentTarget as HTMLElement; setOpen(ev); }}>
                {ev.snapshotRef
                  ? <img class="thumb" src={snapshotUrl(ev.snapshotRef)} alt="" loading="lazy" data-testid="event-thumb"
                         onError={(e) => { (e.target as HTMLImageElement).style.visibility = 'hidden'; }} />
                  : <span class="thumb none" aria-hidden="true" />}
                <span class="what">
                  <span><strong>{enumLabel(ev.type)}</strong> <span class="muted">· {ev.stream}</span></span>
                  <span class="small">{summary(ev)}</span>
                </span>
                <time class="small muted" dateTime={ev.time}>{fmtTime(ev.time)}</time>
              </button>
            </li>
          ))}
        </ol>
        {loading && <Loading what="Loading events" />}
        {next && !loading && <button type="button" class="secondary" data-testid="events-more" onClick={() => load(filter, next)}>Load older events</button>}
      </section>
      {open && <EventDetail ev={open} onClose={close} />}
    </>
  );
}

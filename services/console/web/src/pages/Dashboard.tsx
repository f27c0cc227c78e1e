// Dashboard (/): services and their health (GET /api/services), detector models
// (DetectorService/ListModels), every stream as a card with its live picture and status
// (IngestService/ListStreams), and the face collections with their face counts
// (RecognitionService/ListCollections + DescribeCollection). Refreshed every 5 s.
import { useState } from 'preact/hooks';
import { request, rpc } from '../api';
import { useAsync } from '../hooks/useAsync';
import { Empty, ErrorBox, Loading } from '../components/Status';
import { LiveFrame } from '../components/LiveFrame';
import { Badge } from '../components/Badge';
import { enumLabel, fmtNum, fmtTime } from '../format';

// Browsers allow ~6 HTTP/1.1 connections per origin; each live picture holds one.
const LIVE_BY_DEFAULT = 4;

function Services() {
  const s = useAsync(() => request<any>('GET', '/api/services'), [], 5000);
  const list: any[] = s.data?.services ?? [];
  return (
    <section class="card" aria-labelledby="h-services">
      <h2 id="h-services">Services</h2>
      {s.loading && !s.data && <Loading />}
      <ErrorBox error={s.error} retry={s.reload} />
      {s.data && !list.length && <Empty>No services configured.</Empty>}
      {list.length > 0 && (
        <ul class="rows" data-testid="services">
          {list.map((x) => (
            <li key={x.name} data-testid="service" data-service={x.name}>
              <strong>{x.name}</strong> <Badge state={x.status} />
              <span class="muted small"> {x.address}</span>
              {x.message && <div class="small muted">{x.message}</div>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Models() {
  const m = useAsync(() => rpc<any>('DetectorService', 'ListModels', {}), [], 10000);
  const list: any[] = m.data?.models ?? [];
  return (
    <section class="card" aria-labelledby="h-models">
      <h2 id="h-models">Detector models</h2>
      {m.loading && !m.data && <Loading />}
      <ErrorBox error={m.error} retry={m.reload} />
      {m.data && !list.length && <Empty>No models loaded.</Empty>}
      {list.length > 0 && (
        <ul class="rows" data-testid="models">
          {list.map((x) => (
            <li key={x.name} data-testid="model" data-model={x.name}>
              <strong>{x.name}</strong> <span class="muted small">{x.version}</span> <Badge state={x.state} />
              <div class="small muted">{x.task} · {x.device} · batch ≤ {x.maxBatchSize}
                {x.inputSize?.Width ? ` · ${x.inputSize.Width}×${x.inputSize.Height}` : ''}</div>
              {x.error && <div class="small bad">{x.error}</div>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function StreamCard({ s, liveDefault }: { s: any; liveDefault: boolean }) {
  const [live, setLive] = useState(liveDefault);
  const c = s.config ?? {};
  return (
    <article class="card stream" data-testid="stream-card" data-stream={c.name} aria-labelledby={`h-stream-${c.name}`}>
      <header class="row">
        <h3 id={`h-stream-${c.name}`}>{c.name}</h3>
        <Badge state={s.state} testid="stream-state" />
        <button type="button" class="small secondary push" aria-pressed={live} onClick={() => setLive(!live)}
                data-testid="live-toggle">{live ? 'Hide live' : 'Show live'}</button>
      </header>
      {live ? <LiveFrame stream={c.name} /> : <div class="annot video"><div class="placeholder muted">Live picture off</div></div>}
      <dl class="stats">
        <div><dt>fps in</dt><dd data-testid="fps-in">{fmtNum(s.fpsIn)}</dd></div>
        <div><dt>fps analysed</dt><dd data-testid="fps-analysed">{fmtNum(s.fpsAnalysed)}</dd></div>
        <div><dt>dropped</dt><dd data-testid="frames-dropped">{fmtNum(s.framesDropped, 0)}</dd></div>
        <div><dt>reconnects</dt><dd>{fmtNum(s.reconnects, 0)}</dd></div>
      </dl>
      <p class="small muted">{(c.analyses ?? []).map(enumLabel).join(', ') || 'objects'} · {s.owner || 'no owner'} · since {fmtTime(s.since)}</p>
      {s.lastError && <p class="small bad" data-testid="last-error">Last error: {s.lastError}</p>}
    </article>
  );
}

function StreamCards() {
  const st = useAsync(() => rpc<any>('IngestService', 'ListStreams', {}), [], 5000);
  const list: any[] = st.data?.streams ?? [];
  return (
    <section aria-labelledby="h-streams">
      <h2 id="h-streams">Streams</h2>
      {st.loading && !st.data && <Loading />}
      <ErrorBox error={st.error} retry={st.reload} />
      {st.data && !list.length && <Empty>No streams yet. <a href="/streams">Add one</a>.</Empty>}
      <div class="grid streams">
        {list.map((s, i) => <StreamCard key={s.config?.name} s={s} liveDefault={i < LIVE_BY_DEFAULT} />)}
      </div>
    </section>
  );
}

async function collections() {
  const ids: string[] = [];
  let token = '';
  do {
    const r = await rpc<any>('RecognitionService', 'ListCollections', token ? { NextToken: token } : {});
    ids.push(...(r.CollectionIds ?? []));
    token = r.NextToken ?? '';
  } while (token && ids.length < 1000);
  return Promise.all(ids.map(async (id) => {
    try {
      const d = await rpc<any>('RecognitionService', 'DescribeCollection', { CollectionId: id });
      return { id, faces: Number(d.FaceCount ?? 0), users: Number(d.UserCount ?? 0), error: '' };
    } catch (e) {
      return { id, faces: NaN, users: NaN, error: e instanceof Error ? e.message : String(e) };
    }
  }));
}

function Collections() {
  const c = useAsync(collections, [], 15000);
  return (
    <section class="card" aria-labelledby="h-collections">
      <h2 id="h-collections">Face collections</h2>
      {c.loading && !c.data && <Loading />}
      <ErrorBox error={c.error} retry={c.reload} />
      {c.data && !c.data.length && <Empty>No collections. <a href="/faces">Create one</a>.</Empty>}
      {c.data && c.data.length > 0 && (
        <ul class="rows" data-testid="collections">
          {c.data.map((x) => (
            <li key={x.id} data-testid="collection" data-collection={x.id}>
              <strong>{x.id}</strong> <span data-testid="face-count">{x.error ? '–' : fmtNum(x.faces, 0)}</span> faces
              {x.users > 0 && <span class="muted"> · {x.users} users</span>}
              {x.error && <div class="small bad">{x.error}</div>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Dashboard() {
  return (
    <>
      <h1>Dashboard</h1>
      <div class="grid three">
        <Services />
        <Models />
        <Collections />
      </div>
      <StreamCards />
    </>
  );
}

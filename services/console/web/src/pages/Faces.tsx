// Faces (/faces): collections (create, delete, face counts); in the chosen collection: index
// photos (IndexFaces, ExternalImageId from the file name) by drag and drop or file input, browse
// the faces (ListFaces: the API keeps no face images, so a list of ExternalImageId / FaceId /
// Confidence), delete faces; search by photo (SearchFacesByImage); compare two photos
// (CompareFaces). Recognition's JSON names are PascalCase, confidences and similarities 0-100.
import { useEffect, useState } from 'preact/hooks';
import { fileToBase64, rpc } from '../api';
import { ratioBox } from '../geometry';
import { externalIdOf, bestSimilarity } from '../faces';
import { fieldOfError } from '../formErrors';
import { useAsync } from '../hooks/useAsync';
import { useObjectUrl } from '../hooks/useObjectUrl';
import { AnnotatedImage } from '../components/AnnotatedImage';
import { ConfirmButton } from '../components/ConfirmButton';
import { ImagePicker } from '../components/ImagePicker';
import { Empty, ErrorBox, Loading, errorText } from '../components/Status';
import { enumLabel, fmtNum, fmtPct } from '../format';

const R = (method: string, req: unknown) => rpc<any>('RecognitionService', method, req);

async function listCollections() {
  const ids: string[] = [];
  let token = '';
  do {
    const r = await R('ListCollections', token ? { NextToken: token } : {});
    ids.push(...(r.CollectionIds ?? []));
    token = r.NextToken ?? '';
  } while (token && ids.length < 1000);
  return ids;
}

function CreateCollection({ onCreated }: { onCreated: (id: string) => void }) {
  const [id, setId] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!/^[a-zA-Z0-9_.\-]{1,255}$/.test(id)) { setError('1-255 characters of letters, digits, _ . -'); return; }
    setBusy(true); setError('');
    try { await R('CreateCollection', { CollectionId: id }); onCreated(id); setId(''); }
    catch (err) { setError(fieldOfError(err, ['collectionId']).message); } finally { setBusy(false); }
  };
  return (
    <form class="row wrap" onSubmit={submit} noValidate data-testid="collection-form">
      <div class={`field ${error ? 'invalid' : ''}`}>
        <label for="cc-id">New collection</label>
        <input id="cc-id" data-testid="collection-id" value={id} aria-invalid={error ? 'true' : undefined}
               aria-describedby={error ? 'cc-error' : undefined} onInput={(e) => setId((e.target as HTMLInputElement).value)} />
        {error && <span id="cc-error" class="field-error" role="alert" data-testid="collection-error">{error}</span>}
      </div>
      <button type="submit" disabled={busy} data-testid="collection-create">{busy ? 'Creating…' : 'Create'}</button>
    </form>
  );
}

interface IndexResult { file: string; externalId: string; indexed: number; unindexed: string[]; error: string }

function IndexPhotos({ collection, onIndexed }: { collection: string; onIndexed: () => void }) {
  const [results, setResults] = useState<IndexResult[]>([]);
  const [busy, setBusy] = useState(0);
  const index = async (files: File[]) => {
    setBusy(files.length);
    const out: IndexResult[] = [];
    for (const f of files) {
      const externalId = externalIdOf(f.name);
      try {
        const r = await R('IndexFaces', { CollectionId: collection, Image: { Bytes: await fileToBase64(f) },
                                          ExternalImageId: externalId, DetectionAttributes: ['DEFAULT'] });
        out.push({ file: f.name, externalId, indexed: (r.FaceRecords ?? []).length,
                   unindexed: (r.UnindexedFaces ?? []).map((u: any) => (u.Reasons ?? []).map(enumLabel).join(', ') || 'not indexed'), error: '' });
      } catch (e) {
        out.push({ file: f.name, externalId, indexed: 0, unindexed: [], error: errorText(e) });
      }
      setBusy((n) => n - 1);
      setResults([...out]);
    }
    onIndexed();
  };
  return (
    <section class="card" aria-labelledby="h-index">
      <h3 id="h-index">Index photos</h3>
      <ImagePicker id="index-file" label="Photos to index" multiple onFiles={index} testid="index-file" disabled={busy > 0} />
      {busy > 0 && <Loading what={`Indexing (${busy} left)`} />}
      {results.length > 0 && (
        <ul class="rows" data-testid="index-results" aria-live="polite">
          {results.map((r, i) => (
            <li key={i} data-testid="index-result" data-external-id={r.externalId}>
              <strong>{r.file}</strong> as <code>{r.externalId}</code>:{' '}
              {r.error ? <span class="bad">{r.error}</span>
                : <span class={r.indexed ? 'ok' : 'bad'}>{r.indexed} face{r.indexed === 1 ? '' : 's'} indexed</span>}
              {r.unindexed.length > 0 && <span class="muted small"> · skipped: {r.unindexed.join('; ')}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function FaceList({ collection, version }: { collection: string; version: number }) {
  const [faces, setFaces] = useState<any[]>([]);
  const [token, setToken] = useState('');
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const load = async (t: string) => {
    setLoading(true); setError(null);
    try {
      const r = await R('ListFaces', { CollectionId: collection, MaxResults: 100, ...(t ? { NextToken: t } : {}) });
      setFaces((old) => (t ? [...old, ...(r.Faces ?? [])] : r.Faces ?? []));
      setToken(r.NextToken ?? '');
    } catch (e) { setError(e); } finally { setLoading(false); }
  };
  useEffect(() => { load(''); }, [collection, version]);
  const del = async (id: string) => {
    try {
      const r = await R('DeleteFaces', { CollectionId: collection, FaceIds: [id] });
      const failed = (r.UnsuccessfulFaceDeletions ?? []).find((u: any) => u.FaceId === id);
      if (failed) throw new Error(`face ${id} not deleted: ${(failed.Reasons ?? []).map(enumLabel).join(', ')}`);
      setFaces((f) => f.filter((x) => x.FaceId !== id));
    }
    catch (e) { setError(e); }
  };
  return (
    <section class="card" aria-labelledby="h-faces">
      <h3 id="h-faces">Faces in {collection}</h3>
      <ErrorBox error={error} retry={() => load('')} />
      {!loading && !error && !faces.length && <Empty>No faces yet: index some photos.</Empty>}
      {faces.length > 0 && (
        <div class="table-wrap">
          <table data-testid="face-table">
            <thead><tr><th scope="col">External image id</th><th scope="col">Face id</th><th scope="col">Confidence</th>
              <th scope="col">User</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {faces.map((f) => (
                <tr key={f.FaceId} data-testid="face-row" data-face-id={f.FaceId}>
                  <th scope="row">{f.ExternalImageId || <span class="muted">–</span>}</th>
                  <td><code class="small">{f.FaceId}</code></td>
                  <td>{fmtPct(f.Confidence)}</td>
                  <td>{f.UserId || <span class="muted">–</span>}</td>
                  <td class="actions"><ConfirmButton label="Delete" testid="face-delete" onConfirm={() => del(f.FaceId)} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {loading && <Loading what="Loading faces" />}
      {token && !loading && <button type="button" class="secondary" onClick={() => load(token)} data-testid="faces-more">More faces</button>}
    </section>
  );
}

function SearchByPhoto({ collection }: { collection: string }) {
  const [file, setFile] = useState<File | null>(null);
  const url = useObjectUrl(file);
  const [result, setResult] = useState<any>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const search = async (files: File[]) => {
    const f = files[0];
    setFile(f); setResult(null); setError(null); setBusy(true);
    try { setResult(await R('SearchFacesByImage', { CollectionId: collection, Image: { Bytes: await fileToBase64(f) }, MaxFaces: 10, FaceMatchThreshold: 50 })); }
    catch (e) { setError(e); } finally { setBusy(false); }
  };
  const matches: any[] = result?.FaceMatches ?? [];
  return (
    <section class="card" aria-labelledby="h-search">
      <h3 id="h-search">Search by photo</h3>
      <p class="small muted">The largest face of the photo is searched; matches from 50% similarity.</p>
      <ImagePicker id="search-file" label="Photo to search" onFiles={search} testid="search-file" disabled={busy} />
      {busy && <Loading what="Searching" />}
      <ErrorBox error={error} testid="search-error" />
      {url && (
        <AnnotatedImage src={url} alt="Searched photo" testid="search-img" overlayTestid="search-overlay"
                        boxes={result?.SearchedFaceBoundingBox ? [{ box: ratioBox(result.SearchedFaceBoundingBox), caption: `searched face ${fmtPct(result.SearchedFaceConfidence)}`, tone: 'info' }] : []} />
      )}
      {result && (matches.length
        ? <ol class="rows" data-testid="search-results">
            {matches.map((m) => (
              <li key={m.Face?.FaceId} data-testid="search-result" data-face-id={m.Face?.FaceId} data-similarity={m.Similarity}>
                <strong>{m.Face?.ExternalImageId || m.Face?.FaceId}</strong>{' '}
                <span class="badge ok" data-testid="search-similarity">{fmtPct(m.Similarity)}</span>
                <span class="small muted"> face {m.Face?.FaceId}</span>
              </li>
            ))}
          </ol>
        : <Empty><span data-testid="search-none">No match in {collection}.</span></Empty>)}
    </section>
  );
}

function ComparePhotos() {
  const [src, setSrc] = useState<File | null>(null);
  const [tgt, setTgt] = useState<File | null>(null);
  const srcUrl = useObjectUrl(src), tgtUrl = useObjectUrl(tgt);
  const [result, setResult] = useState<any>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const compare = async () => {
    if (!src || !tgt) return;
    setBusy(true); setError(null); setResult(null);
    try {
      setResult(await R('CompareFaces', { SourceImage: { Bytes: await fileToBase64(src) }, TargetImage: { Bytes: await fileToBase64(tgt) },
                                           SimilarityThreshold: 0 }));
    } catch (e) { setError(e); } finally { setBusy(false); }
  };
  const best = result ? bestSimilarity(result) : null;
  return (
    <section class="card" aria-labelledby="h-compare">
      <h3 id="h-compare">Compare two photos</h3>
      <div class="grid two">
        <div>
          <ImagePicker id="compare-source" label="Source photo (its largest face)" onFiles={(f) => { setSrc(f[0]); setResult(null); }} testid="compare-source" />
          {srcUrl && <AnnotatedImage src={srcUrl} alt="Source photo" overlayTestid="compare-source-overlay"
                                     boxes={result?.SourceImageFace?.BoundingBox ? [{ box: ratioBox(result.SourceImageFace.BoundingBox), caption: 'source face', tone: 'info' }] : []} />}
        </div>
        <div>
          <ImagePicker id="compare-target" label="Target photo" onFiles={(f) => { setTgt(f[0]); setResult(null); }} testid="compare-target" />
          {tgtUrl && <AnnotatedImage src={tgtUrl} alt="Target photo" overlayTestid="compare-target-overlay"
                                     boxes={(result?.FaceMatches ?? []).map((m: any) => ({ box: ratioBox(m.Face?.BoundingBox), caption: fmtPct(m.Similarity), tone: (m.Similarity >= 80 ? 'ok' : 'bad') as 'ok' | 'bad' }))} />}
        </div>
      </div>
      <button type="button" onClick={compare} disabled={!src || !tgt || busy} data-testid="compare-submit">{busy ? 'Comparing…' : 'Compare'}</button>
      <ErrorBox error={error} testid="compare-error" />
      {result && (
        <p class="result" data-testid="compare-result" data-similarity={best ?? ''} aria-live="polite">
          {best === null ? 'No face of the target photo could be compared.'
            : <>Similarity <strong data-testid="compare-similarity">{fmtPct(best)}</strong> ({best >= 80 ? 'likely the same person' : 'likely different people'};
              {' '}{(result.FaceMatches ?? []).length} face(s) in the target{(result.UnmatchedFaces ?? []).length ? `, ${result.UnmatchedFaces.length} not compared` : ''})</>}
        </p>
      )}
    </section>
  );
}

export function Faces() {
  const cols = useAsync(listCollections, []);
  const [selected, setSelected] = useState('');
  const [version, setVersion] = useState(0);
  const [actionError, setActionError] = useState<unknown>(null);
  const ids = cols.data ?? [];
  useEffect(() => { if (ids.length && !ids.includes(selected)) setSelected(ids[0]); if (!ids.length) setSelected(''); }, [cols.data]);
  const counts = useAsync(() => Promise.all(ids.map((id) => R('DescribeCollection', { CollectionId: id })
    .then((d) => [id, Number(d.FaceCount ?? 0)] as const, () => [id, NaN] as const))).then((l) => new Map(l)), [cols.data, version]);
  const del = async (id: string) => {
    setActionError(null);
    try { await R('DeleteCollection', { CollectionId: id }); cols.reload(); } catch (e) { setActionError(e); }
  };
  return (
    <>
      <h1>Faces</h1>
      <section class="card" aria-labelledby="h-collections">
        <h2 id="h-collections">Collections</h2>
        {cols.loading && !cols.data && <Loading />}
        <ErrorBox error={cols.error} retry={cols.reload} />
        <ErrorBox error={actionError} />
        {cols.data && !ids.length && <Empty>No collections yet.</Empty>}
        {ids.length > 0 && (
          <ul class="rows" data-testid="collection-list">
            {ids.map((id) => (
              <li key={id} class="row" data-testid="collection-row" data-collection={id}>
                <label class="check">
                  <input type="radio" name="collection" value={id} checked={selected === id} data-testid="collection-select"
                         onChange={() => setSelected(id)} />
                  <strong>{id}</strong>
                </label>
                <span class="muted" data-testid="face-count">{counts.data?.has(id) ? `${fmtNum(counts.data.get(id), 0)} faces` : '…'}</span>
                <span class="push"><ConfirmButton label="Delete" confirmLabel={`Delete ${id} and its faces`} testid="collection-delete" onConfirm={() => del(id)} /></span>
              </li>
            ))}
          </ul>
        )}
        <CreateCollection onCreated={(id) => { setSelected(id); cols.reload(); }} />
      </section>
      {selected && (
        <div class="grid two" key={selected}>
          <IndexPhotos collection={selected} onIndexed={() => setVersion((v) => v + 1)} />
          <SearchByPhoto collection={selected} />
          <div class="span-all"><FaceList collection={selected} version={version} /></div>
        </div>
      )}
      <ComparePhotos />
    </>
  );
}

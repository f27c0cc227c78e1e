// Try it (/try): one image (file, drop or clipboard paste) through DetectFaces (Attributes ALL),
// DetectLabels, DetectProtectiveEquipment and MaskService/Classify, each answer's boxes drawn on
// the image (one layer each, toggled) with a summary per call; and a text through
// SentimentService/DetectSentiment with its sentiment and the four scores.
import { useRef, useState } from 'preact/hooks';
import { fileToBase64, rpc } from '../api';
import { faceBoxes, labelBoxes, maskBoxes, ppeBoxes, ppeSummary, type Layer, type OverlayBox } from '../boxes';
import { useObjectUrl } from '../hooks/useObjectUrl';
import { AnnotatedImage } from '../components/AnnotatedImage';
import { ImagePicker } from '../components/ImagePicker';
import { ErrorBox, Loading } from '../components/Status';
import { enumLabel, fmtFrac, fmtPct } from '../format';

type Call = { state: 'idle' | 'busy' | 'done' | 'failed'; data?: any; error?: unknown };
const CALLS: { layer: Layer; title: string; run: (b64: string) => Promise<any>; boxes: (r: any) => OverlayBox[] }[] = [
  { layer: 'faces', title: 'Faces', boxes: faceBoxes,
    run: (b) => rpc('RecognitionService', 'DetectFaces', { Image: { Bytes: b }, Attributes: ['ALL'] }) },
  { layer: 'labels', title: 'Labels', boxes: labelBoxes,
    run: (b) => rpc('RecognitionService', 'DetectLabels', { Image: { Bytes: b } }) },
  { layer: 'ppe', title: 'Protective equipment', boxes: ppeBoxes,
    run: (b) => rpc('RecognitionService', 'DetectProtectiveEquipment', { Image: { Bytes: b } }) },
  { layer: 'masks', title: 'Masks', boxes: maskBoxes,
    run: (b) => rpc('MaskService', 'Classify', { image: { Bytes: b } }) },
];

function FaceSummary({ r }: { r: any }) {
  const faces: any[] = r.FaceDetails ?? [];
  if (!faces.length) return <p class="muted">No face found.</p>;
  return (
    <ol class="rows" data-testid="faces-result">
      {faces.map((f, i) => {
        const top = [...(f.Emotions ?? [])].sort((a, b) => b.Confidence - a.Confidence)[0];
        const flags = ['Smile', 'Eyeglasses', 'Sunglasses', 'Beard', 'Mustache', 'EyesOpen', 'MouthOpen', 'FaceOccluded']
          .filter((k) => f[k]?.Value).map((k) => enumLabel(k.replace(/([a-z])([A-Z])/g, '$1_$2')));
        return (
          <li key={i}>
            <strong>Face {i + 1}</strong> {fmtPct(f.Confidence)}
            {f.AgeRange && <> · age {f.AgeRange.Low}-{f.AgeRange.High}</>}
            {f.Gender?.Value && f.Gender.Value !== 'GENDER_UNSPECIFIED' && <> · {f.Gender.Value} ({fmtPct(f.Gender.Confidence)})</>}
            {top && <> · {enumLabel(top.Type)} ({fmtPct(top.Confidence)})</>}
            {flags.length > 0 && <div class="small muted">{flags.join(', ')}</div>}
            {f.Pose && <div class="small muted">pose: roll {Math.round(f.Pose.Roll)}°, yaw {Math.round(f.Pose.Yaw)}°, pitch {Math.round(f.Pose.Pitch)}°</div>}
          </li>
        );
      })}
    </ol>
  );
}

function Summary({ layer, r }: { layer: Layer; r: any }) {
  if (layer === 'faces') return <FaceSummary r={r} />;
  if (layer === 'labels') {
    const labels: any[] = r.Labels ?? [];
    return labels.length
      ? <ul class="tags" data-testid="labels-result">{labels.map((l) => <li key={l.Name}>{l.Name} <span class="muted">{fmtPct(l.Confidence)}</span></li>)}</ul>
      : <p class="muted">No label.</p>;
  }
  if (layer === 'ppe') {
    const s = ppeSummary(r);
    return <p data-testid="ppe-result">{(r.Persons ?? []).length} person(s): {s.with} with the required equipment, {s.without} without, {s.indeterminate} indeterminate.</p>;
  }
  const res: any[] = r.results ?? [];
  return res.length
    ? <ul class="rows" data-testid="masks-result">{res.map((m, i) => <li key={i}>Face {i + 1}: <strong>{enumLabel(m.label)}</strong> {fmtFrac(m.confidence)}</li>)}</ul>
    : <p class="muted">No face found.</p>;
}

function ImageTry() {
  const [file, setFile] = useState<File | null>(null);
  const url = useObjectUrl(file);
  const [calls, setCalls] = useState<Record<string, Call>>({});
  const [shown, setShown] = useState<Record<string, boolean>>({ faces: true, labels: true, ppe: true, masks: true });
  const gen = useRef(0);
  const run = async (files: File[]) => {
    const f = files[0], id = ++gen.current;
    setFile(f);
    setCalls(Object.fromEntries(CALLS.map((c) => [c.layer, { state: 'busy' }])));
    const b64 = await fileToBase64(f);
    await Promise.all(CALLS.map(async (c) => {
      let v: Call;
      try { v = { state: 'done', data: await c.run(b64) }; } catch (error) { v = { state: 'failed', error }; }
      if (id === gen.current) setCalls((old) => ({ ...old, [c.layer]: v }));
    }));
  };
  const boxes = CALLS.flatMap((c) => (shown[c.layer] && calls[c.layer]?.data ? c.boxes(calls[c.layer].data) : []));
  return (
    <section class="card" aria-labelledby="h-try-image">
      <h2 id="h-try-image">Image</h2>
      <ImagePicker id="try-file" label="Image to analyse" paste onFiles={run} testid="try-file" />
      {url && (
        <div class="grid two try">
          <AnnotatedImage src={url} alt="Analysed image" boxes={boxes} testid="try-img" overlayTestid="try-overlay" />
          <div>
            {CALLS.map((c) => {
              const s = calls[c.layer];
              return (
                <section key={c.layer} class="result-block" data-testid={`try-${c.layer}`} data-state={s?.state}>
                  <h3 class="row">
                    <label class="check">
                      <input type="checkbox" checked={shown[c.layer]} onChange={(e) => setShown({ ...shown, [c.layer]: (e.target as HTMLInputElement).checked })} />
                      {c.title}
                    </label>
                    <span class={`swatch layer-${c.layer}`} aria-hidden="true" />
                  </h3>
                  {s?.state === 'busy' && <Loading what="Working" />}
                  {s?.state === 'failed' && <ErrorBox error={s.error} />}
                  {s?.state === 'done' && <Summary layer={c.layer} r={s.data} />}
                </section>
              );
            })}
          </div>
        </div>
      )}
    </section>
  );
}

const SCORES = ['Positive', 'Negative', 'Neutral', 'Mixed'];

function TextTry() {
  const [text, setText] = useState('');
  const [result, setResult] = useState<any>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true); setError(null);
    try { setResult(await rpc('SentimentService', 'DetectSentiment', { Text: text, LanguageCode: 'en' })); }
    catch (err) { setError(err); setResult(null); } finally { setBusy(false); }
  };
  const bytes = new TextEncoder().encode(text).length;
  return (
    <form class="card" onSubmit={submit} aria-labelledby="h-try-text">
      <h2 id="h-try-text">Text sentiment</h2>
      <div class="field">
        <label for="try-text">English text (up to 5,000 bytes)</label>
        <textarea id="try-text" rows={4} value={text} data-testid="sentiment-text" maxLength={5000}
                  onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        <span class={`small ${bytes > 5000 ? 'bad' : 'muted'}`}>{bytes} bytes</span>
      </div>
      <button type="submit" disabled={busy || !text.trim()} data-testid="sentiment-submit">{busy ? 'Analysing…' : 'Detect sentiment'}</button>
      <ErrorBox error={error} testid="sentiment-error" />
      {result && (
        <div class="sentiment" data-testid="sentiment-result" data-sentiment={result.Sentiment} aria-live="polite">
          <p>Sentiment: <strong data-testid="sentiment-value">{enumLabel(result.Sentiment)}</strong></p>
          <dl class="bars">
            {SCORES.map((k) => {
              const v = Number(result.SentimentScore?.[k] ?? 0);
              return (
                <div key={k} data-testid={`sentiment-score-${k.toLowerCase()}`}>
                  <dt>{k}</dt>
                  <dd><meter min={0} max={1} value={v} aria-label={`${k} score`} /> {fmtFrac(v)}</dd>
                </div>
              );
            })}
          </dl>
        </div>
      )}
    </form>
  );
}

export function Try() {
  return (
    <>
      <h1>Try it</h1>
      <ImageTry />
      <TextTry />
    </>
  );
}

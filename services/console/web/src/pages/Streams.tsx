// Streams (/streams): the streams (IngestService/ListStreams), a form to add one (AddStream) or
// edit one (AddStream with replace), and remove buttons (RemoveStream). The API's errors are
// shown next to the field they concern (formErrors.ts), others above the submit button.
import { useRef, useState } from 'preact/hooks';
import { rpc } from '../api';
import { fieldOfError } from '../formErrors';
import { useAsync } from '../hooks/useAsync';
import { Empty, ErrorBox, Loading, errorText } from '../components/Status';
import { ConfirmButton } from '../components/ConfirmButton';
import { Badge } from '../components/Badge';
import { ANALYSES, STREAM_FIELDS, TRANSPORTS, addStreamRequest, emptyForm, formOf, validate, type StreamForm } from '../streamForm';
import { enumLabel, fmtNum } from '../format';

const ANALYSIS_HELP: Record<string, string> = {
  OBJECTS: 'objects (person tracks, object events)', FACES: 'faces', MASKS: 'masks (implies faces)',
  FACE_SEARCH: 'face search in a collection (implies faces)',
};

function Field({ id, label, error, hint, children }: { id: string; label: string; error?: string; hint?: string; children: any }) {
  return (
    <div class={`field ${error ? 'invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && !error && <span id={`${id}-hint`} class="small muted">{hint}</span>}
      {error && <span id={`${id}-error`} class="field-error" role="alert" data-testid={`error-${id.replace(/^sf-/, '')}`}>{error}</span>}
    </div>
  );
}

function StreamEditor({ initial, editing, collections, onDone, onCancel }:
    { initial: StreamForm; editing: boolean; collections: string[]; onDone: () => void; onCancel: () => void }) {
  const [f, setF] = useState<StreamForm>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const set = (k: keyof StreamForm, v: any) => setF({ ...f, [k]: v });
  const inp = (k: keyof StreamForm) => (e: Event) => set(k, (e.target as HTMLInputElement).value);
  const aria = (k: string) => ({ 'aria-invalid': errors[k] ? ('true' as const) : undefined,
                                 'aria-describedby': errors[k] ? `sf-${k}-error` : `sf-${k}-hint` });
  const focusFirst = (errs: Record<string, string>) => setTimeout(() => {
    const k = STREAM_FIELDS.find((x) => errs[x]);
    (formRef.current?.querySelector(`[data-field="${k}"]`) as HTMLElement | null)?.focus();
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    const v = validate(f);
    setErrors(v);
    if (Object.keys(v).length) { focusFirst(v); return; }
    setBusy(true);
    try {
      await rpc('IngestService', 'AddStream', addStreamRequest(f, editing));
      onDone();
    } catch (err) {
      const { field, message } = fieldOfError(err, STREAM_FIELDS);
      const errs = { [field]: field ? message : errorText(err) };
      setErrors(errs);
      if (field) focusFirst(errs);
    } finally { setBusy(false); }
  };
  const toggle = (a: string, on: boolean) => set('analyses', on ? [...f.analyses, a] : f.analyses.filter((x) => x !== a));
  return (
    <form ref={formRef} class="card form" onSubmit={submit} noValidate data-testid="stream-form" aria-labelledby="h-stream-form">
      <h2 id="h-stream-form">{editing ? `Edit ${initial.name}` : 'Add a stream'}</h2>
      <div class="grid two">
        <Field id="sf-name" label="Name" error={errors.name} hint="letters, digits, _ . - (1-128)">
          <input id="sf-name" data-field="name" data-testid="stream-name" value={f.name} readOnly={editing} required
                 onInput={inp('name')} {...aria('name')} />
        </Field>
        <Field id="sf-uri" label="URI" error={errors.uri} hint={editing ? 'credentials show as ***: re-enter them' : 'rtsp://, http(s)://, file://'}>
          <input id="sf-uri" data-field="uri" data-testid="stream-uri" value={f.uri} required inputMode="url" spellcheck={false}
                 onInput={inp('uri')} {...aria('uri')} />
        </Field>
        <Field id="sf-sampleFps" label="Sampling (frames analysed per second)" error={errors.sampleFps} hint="empty or 0 = 5 fps">
          <input id="sf-sampleFps" data-field="sampleFps" data-testid="stream-fps" type="number" min="0" step="0.1" value={f.sampleFps}
                 onInput={inp('sampleFps')} {...aria('sampleFps')} />
        </Field>
        <Field id="sf-sampleEveryNFrames" label="Or every Nth decoded frame" error={errors.sampleEveryNFrames} hint="used when the fps above is empty or 0">
          <input id="sf-sampleEveryNFrames" data-field="sampleEveryNFrames" data-testid="stream-every-n" type="number" min="1" step="1"
                 value={f.sampleEveryNFrames} onInput={inp('sampleEveryNFrames')} {...aria('sampleEveryNFrames')} />
        </Field>
        <Field id="sf-transport" label="RTSP transport" error={errors.transport}>
          <select id="sf-transport" data-field="transport" data-testid="stream-transport" value={f.transport}
                  onChange={inp('transport')} {...aria('transport')}>
            {TRANSPORTS.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </Field>
      </div>
      <fieldset class={`field ${errors.analyses ? 'invalid' : ''}`}>
        <legend>Analyses</legend>
        <div class="checks">
          {ANALYSES.map((a, i) => (
            <label key={a} class="check">
              <input type="checkbox" data-field={i === 0 ? 'analyses' : undefined} data-testid={`stream-analysis-${a}`} value={a}
                     checked={f.analyses.includes(a)} onChange={(e) => toggle(a, (e.target as HTMLInputElement).checked)} />
              {ANALYSIS_HELP[a]}
            </label>
          ))}
        </div>
        {errors.analyses && <span id="sf-analyses-error" class="field-error" role="alert" data-testid="error-analyses">{errors.analyses}</span>}
      </fieldset>
      <div class="grid two">
        <Field id="sf-classes" label="Object classes" error={errors.classes} hint="comma-separated detector labels, e.g. person, car; empty = all">
          <input id="sf-classes" data-field="classes" data-testid="stream-classes" value={f.classes} onInput={inp('classes')} {...aria('classes')} />
        </Field>
        <Field id="sf-collectionId" label="Collection (face search)" error={errors.collectionId} hint="required with face search">
          <input id="sf-collectionId" data-field="collectionId" data-testid="stream-collection" list="sf-collections" value={f.collectionId}
                 onInput={inp('collectionId')} {...aria('collectionId')} />
          <datalist id="sf-collections">{collections.map((c) => <option key={c} value={c} />)}</datalist>
        </Field>
        <Field id="sf-minConfidence" label="Minimum confidence (0-1)" error={errors.minConfidence} hint="empty = 0.5">
          <input id="sf-minConfidence" data-field="minConfidence" data-testid="stream-min-confidence" type="number" min="0" max="1" step="0.05"
                 value={f.minConfidence} onInput={inp('minConfidence')} {...aria('minConfidence')} />
        </Field>
        <Field id="sf-faceMatchThreshold" label="Face match threshold (0-100)" error={errors.faceMatchThreshold} hint="empty = 80">
          <input id="sf-faceMatchThreshold" data-field="faceMatchThreshold" data-testid="stream-face-threshold" type="number" min="0" max="100"
                 value={f.faceMatchThreshold} onInput={inp('faceMatchThreshold')} {...aria('faceMatchThreshold')} />
        </Field>
      </div>
      <label class="check">
        <input type="checkbox" data-field="motionGating" data-testid="stream-motion" checked={f.motionGating}
               onChange={(e) => set('motionGating', (e.target as HTMLInputElement).checked)} />
        Motion gating (skip frames that barely change)
      </label>
      {errors[''] && <div class="error" role="alert" data-testid="stream-form-error">{errors['']}</div>}
      <div class="row">
        <button type="submit" disabled={busy} data-testid="stream-submit">{busy ? 'Saving…' : editing ? 'Save and restart' : 'Add stream'}</button>
        {editing && <button type="button" class="secondary" onClick={onCancel} data-testid="stream-cancel">Cancel</button>}
      </div>
    </form>
  );
}

export function Streams() {
  const st = useAsync(() => rpc<any>('IngestService', 'ListStreams', {}), [], 5000);
  const cols = useAsync(() => rpc<any>('RecognitionService', 'ListCollections', {}).then((r) => (r.CollectionIds ?? []) as string[]).catch(() => []), []);
  const [edit, setEdit] = useState<{ form: StreamForm; editing: boolean; n: number }>({ form: emptyForm(), editing: false, n: 0 });
  const [actionError, setActionError] = useState<unknown>(null);
  const list: any[] = st.data?.streams ?? [];
  const reset = () => setEdit({ form: emptyForm(), editing: false, n: edit.n + 1 });
  const remove = async (name: string) => {
    setActionError(null);
    try { await rpc('IngestService', 'RemoveStream', { name }); st.reload(); if (edit.editing && edit.form.name === name) reset(); }
    catch (e) { setActionError(e); }
  };
  return (
    <>
      <h1>Streams</h1>
      <section class="card" aria-labelledby="h-stream-list">
        <h2 id="h-stream-list">Streams</h2>
        {st.loading && !st.data && <Loading />}
        <ErrorBox error={st.error} retry={st.reload} />
        <ErrorBox error={actionError} testid="stream-action-error" />
        {st.data && !list.length && <Empty>No streams yet: add one below.</Empty>}
        {list.length > 0 && (
          <div class="table-wrap">
            <table data-testid="stream-table">
              <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">URI</th><th scope="col">Sampling</th>
                <th scope="col">Analyses</th><th scope="col">fps in / analysed</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {list.map((s) => {
                  const c = s.config ?? {};
                  return (
                    <tr key={c.name} data-testid="stream-row" data-stream={c.name}>
                      <th scope="row">{c.name}</th>
                      <td><Badge state={s.state} />{s.lastError && <div class="small bad">{s.lastError}</div>}</td>
                      <td class="break">{c.uri}</td>
                      <td>{c.sampleFps ? `${fmtNum(c.sampleFps)} fps` : c.sampleEveryNFrames ? `every ${c.sampleEveryNFrames}th` : '5 fps'}</td>
                      <td>{(c.analyses ?? []).map(enumLabel).join(', ') || 'objects'}{c.collectionId ? ` (${c.collectionId})` : ''}</td>
                      <td>{fmtNum(s.fpsIn)} / {fmtNum(s.fpsAnalysed)}</td>
                      <td class="actions">
                        <button type="button" class="small secondary" data-testid="stream-edit"
                                onClick={() => { setEdit({ form: formOf(c), editing: true, n: edit.n + 1 }); setTimeout(() => document.getElementById('sf-uri')?.focus()); }}>Edit</button>
                        <ConfirmButton label="Remove" confirmLabel={`Remove ${c.name}`} testid="stream-remove" onConfirm={() => remove(c.name)} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <StreamEditor key={edit.n} initial={edit.form} editing={edit.editing} collections={cols.data ?? []}
                    onDone={() => { reset(); st.reload(); }} onCancel={reset} />
    </>
  );
}

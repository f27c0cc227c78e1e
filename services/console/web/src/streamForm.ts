// Streams page logic: the add/edit form's values <-> ingest.proto's StreamConfig (lowerCamelCase
// JSON, enums by name), and the checks made before sending (the server checks them all again;
// its errors land on the field via formErrors.ts).
export const ANALYSES = ['OBJECTS', 'FACES', 'MASKS', 'FACE_SEARCH'] as const;
export const TRANSPORTS = ['AUTO', 'TCP', 'UDP'] as const;
export const STREAM_FIELDS = ['name', 'uri', 'transport', 'sampleFps', 'sampleEveryNFrames', 'motionGating', 'analyses', 'classes',
                              'collectionId', 'minConfidence', 'faceMatchThreshold'];

export interface StreamForm {
  name: string; uri: string; transport: string; sampleFps: string; sampleEveryNFrames: string; motionGating: boolean; analyses: string[];
  classes: string; collectionId: string; minConfidence: string; faceMatchThreshold: string;
}

export const emptyForm = (): StreamForm => ({ name: '', uri: '', transport: 'AUTO', sampleFps: '5', sampleEveryNFrames: '', motionGating: false,
  analyses: ['OBJECTS'], classes: '', collectionId: '', minConfidence: '', faceMatchThreshold: '' });

const numStr = (v: any) => (v === undefined || v === null || Number(v) === 0 ? '' : String(v));

// A StreamStatus.config (as ListStreams gives it) into the form, for editing.
export function formOf(c: any): StreamForm {
  return {
    name: String(c?.name ?? ''), uri: String(c?.uri ?? ''), transport: String(c?.transport || 'AUTO'),
    sampleFps: numStr(c?.sampleFps), sampleEveryNFrames: numStr(c?.sampleEveryNFrames), motionGating: !!c?.motionGating,
    analyses: (c?.analyses ?? []).filter((a: string) => a !== 'ANALYSIS_UNSPECIFIED'),
    classes: (c?.classes ?? []).join(', '), collectionId: String(c?.collectionId ?? ''),
    minConfidence: numStr(c?.minConfidence), faceMatchThreshold: numStr(c?.faceMatchThreshold),
  };
}

// Client-side checks; field -> message. Empty = fine to send.
export function validate(f: StreamForm): Record<string, string> {
  const e: Record<string, string> = {};
  if (!/^[A-Za-z0-9_.\-]{1,128}$/.test(f.name)) e.name = '1-128 characters of letters, digits, _ . -';
  if (!/^(rtsps?|https?|file):\/\//i.test(f.uri.trim())) e.uri = 'rtsp://, rtsps://, http://, https:// or file://';
  else if (f.uri.includes('***')) e.uri = 'credentials are masked in the list: enter the whole URI again';
  const fps = f.sampleFps.trim() === '' ? 0 : Number(f.sampleFps);
  if (!(fps >= 0) || !isFinite(fps)) e.sampleFps = 'a number >= 0 (0 = 5 fps)';
  const nth = f.sampleEveryNFrames.trim() === '' ? 0 : Number(f.sampleEveryNFrames);
  if (!(Number.isInteger(nth) && nth >= 0)) e.sampleEveryNFrames = 'a whole number >= 1; used when the fps is empty';
  const mc = f.minConfidence.trim() === '' ? 0 : Number(f.minConfidence);
  if (!(mc >= 0 && mc <= 1)) e.minConfidence = 'a fraction in (0, 1]; empty = 0.5';
  const th = f.faceMatchThreshold.trim() === '' ? 0 : Number(f.faceMatchThreshold);
  if (!(th >= 0 && th <= 100)) e.faceMatchThreshold = '0-100; empty = 80';
  if (f.analyses.includes('FACE_SEARCH') && !f.collectionId.trim()) e.collectionId = 'required with face search';
  return e;
}

// The AddStream request of the form.
export function addStreamRequest(f: StreamForm, replace: boolean): Record<string, unknown> {
  const config: Record<string, unknown> = { name: f.name.trim(), uri: f.uri.trim(), transport: f.transport || 'AUTO',
                                            motionGating: f.motionGating, analyses: [...f.analyses] };
  const n = (s: string) => (s.trim() === '' ? 0 : Number(s));
  if (n(f.sampleFps)) config.sampleFps = n(f.sampleFps);
  if (n(f.sampleEveryNFrames)) config.sampleEveryNFrames = n(f.sampleEveryNFrames);
  if (n(f.minConfidence)) config.minConfidence = n(f.minConfidence);
  if (n(f.faceMatchThreshold)) config.faceMatchThreshold = n(f.faceMatchThreshold);
  const classes = f.classes.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);
  if (classes.length) config.classes = classes;
  if (f.collectionId.trim()) config.collectionId = f.collectionId.trim();
  return { config, replace };
}

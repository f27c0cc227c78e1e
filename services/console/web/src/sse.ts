// Server-sent events of /api/live/events and /api/live/frames: a parser of the text/event-stream
// wire format (for tests and non-EventSource use) and EventSource wrappers that decode JSON.
import type { AwsBox } from './geometry';

export interface SseMessage { event: string; data: string; id?: string }

// Parses complete messages from `buf`; returns them and the unparsed rest.
export function parseSse(buf: string): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = [];
  const norm = buf.replace(/\r\n?/g, '\n');
  const blocks = norm.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message', id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length) messages.push({ event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
  }
  return { messages, rest };
}

// stratus.v1.GetStreamFrameResponse in the API's JSON mapping: its own fields lowerCamelCase,
// int64 (sequence, trackId) as strings, jpeg base64, box a common.proto BoundingBox (PascalCase).
export interface Detection { label: string; confidence: number; box: AwsBox; trackId: string }
export interface Frame { stream: string; sequence: string; time: string; width: number; height: number; jpeg: string; detections: Detection[] }

export function parseFrame(data: string): Frame {
  const f = JSON.parse(data);
  return { stream: String(f.stream ?? ''), sequence: String(f.sequence ?? '0'), time: String(f.time ?? ''),
           width: Number(f.width ?? 0), height: Number(f.height ?? 0), jpeg: String(f.jpeg ?? ''),
           detections: (Array.isArray(f.detections) ? f.detections : []).map((d: any) => ({
             label: String(d?.label ?? ''), confidence: Number(d?.confidence ?? 0), box: d?.box ?? {},
             trackId: String(d?.trackId ?? '0') })) };
}

function watch<T>(url: string, name: string, parse: (d: string) => T, onData: (v: T) => void,
                  onError?: (msg: string) => void): () => void {
  const es = new EventSource(url);
  es.addEventListener(name, (e) => { try { onData(parse((e as MessageEvent).data)); } catch (err) { onError?.(String(err)); } });
  es.addEventListener('error', (e) => {
    const d = (e as MessageEvent).data;
    if (d) { try { onError?.(JSON.parse(d).message ?? d); } catch { onError?.(d); } es.close(); }
    else if (es.readyState === EventSource.CLOSED) onError?.('the live connection was refused');
  });
  return () => es.close();
}

export const watchFrames = (stream: string, onFrame: (f: Frame) => void, onError?: (m: string) => void, maxFps = 5) =>
  watch(`/api/live/frames?stream=${encodeURIComponent(stream)}&maxFps=${maxFps}`, 'frame', parseFrame, onFrame, onError);

export const watchEvents = (query: string, onEvent: (e: any) => void, onError?: (m: string) => void) =>
  watch(`/api/live/events${query ? `?${query}` : ''}`, 'event', (d) => JSON.parse(d), onEvent, onError);

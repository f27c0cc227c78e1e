// The live picture of a stream: frames from SSE /api/live/frames (GetStreamFrameResponse JSON)
// shown as a JPEG in an <img> with the detections' boxes and labels drawn over it; paused while
// the page is hidden.
import { useEffect, useState } from 'preact/hooks';
import { ratioBox } from '../geometry';
import { watchFrames, type Frame } from '../sse';
import { BoxOverlay } from './BoxOverlay';
import { fmtFrac, fmtTime } from '../format';
import { usePageVisible } from '../hooks/usePageVisible';

export function LiveFrame({ stream, maxFps = 5 }: { stream: string; maxFps?: number }) {
  const [frame, setFrame] = useState<Frame | null>(null);
  const [error, setError] = useState('');
  const visible = usePageVisible();
  useEffect(() => { setFrame(null); setError(''); }, [stream]);
  useEffect(() => {
    if (!visible) return;
    return watchFrames(stream, (f) => { setFrame(f); setError(''); }, setError, maxFps);
  }, [stream, maxFps, visible]);
  const boxes = (frame?.detections ?? []).map((d) => ({
    box: ratioBox(d.box), caption: `${d.label} ${fmtFrac(d.confidence)}${d.trackId && d.trackId !== '0' ? ` #${d.trackId}` : ''}`,
    tone: d.label === 'person' ? ('info' as const) : undefined,
  }));
  return (
    <div class="live">
      <div class="annot video">
        {frame?.jpeg
          ? <img src={`data:image/jpeg;base64,${frame.jpeg}`} alt={`Live picture of ${stream}`} data-testid="live-img"
                 data-sequence={frame.sequence} />
          : <div class="placeholder muted">{error ? 'No picture' : 'Waiting for frames…'}</div>}
        <BoxOverlay boxes={boxes} imgW={frame?.width ?? 0} imgH={frame?.height ?? 0} testid="live-overlay" />
      </div>
      <p class="small muted live-meta" aria-live="off">
        {error ? <span class="bad" role="status">{error}</span>
          : frame ? <>frame {frame.sequence} · {fmtTime(frame.time)} · {frame.detections.length} detections</> : ' '}
      </p>
    </div>
  );
}

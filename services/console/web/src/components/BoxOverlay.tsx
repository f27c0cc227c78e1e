// Boxes and captions drawn in an SVG laid over an image shown letterboxed (object-fit: contain)
// in the same positioned container: geometry.ts maps each ratio box to the container's pixels.
import { useRef } from 'preact/hooks';
import { boxToCanvas, type RatioBox } from '../geometry';
import { useSize } from '../hooks/useSize';

export interface DrawnBox { box: RatioBox; caption: string; tone?: 'ok' | 'bad' | 'info' }

export function BoxOverlay({ boxes, imgW, imgH, testid = 'box-overlay' }:
    { boxes: DrawnBox[]; imgW: number; imgH: number; testid?: string }) {
  const ref = useRef<SVGSVGElement>(null);
  const { width, height } = useSize(ref);
  return (
    <svg ref={ref} class="overlay" data-testid={testid} data-boxes={boxes.length} aria-hidden="true"
         width="100%" height="100%" viewBox={width && height ? `0 0 ${width} ${height}` : undefined}>
      {width > 0 && imgW > 0 && boxes.map((b, i) => {
        const r = boxToCanvas(b.box, imgW, imgH, width, height);
        const above = r.y >= 16;
        return (
          <g key={i} class={`box tone-${b.tone ?? 'default'}`} data-testid="box">
            <rect x={r.x} y={r.y} width={Math.max(r.w, 1)} height={Math.max(r.h, 1)} />
            {b.caption && (
              <text x={r.x + 3} y={above ? r.y - 4 : r.y + 13}>{b.caption}</text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

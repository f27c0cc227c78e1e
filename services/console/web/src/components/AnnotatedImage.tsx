// An image with boxes drawn over it: the container takes the image's aspect ratio (capped in
// height by CSS; the image is then letterboxed and the overlay follows, see BoxOverlay).
import { useState } from 'preact/hooks';
import { BoxOverlay, type DrawnBox } from './BoxOverlay';

export function AnnotatedImage({ src, alt, boxes, testid, overlayTestid, width = 0, height = 0 }:
    { src: string; alt: string; boxes: DrawnBox[]; testid?: string; overlayTestid?: string; width?: number; height?: number }) {
  const [natural, setNatural] = useState({ w: width, h: height });
  const [failed, setFailed] = useState(false);
  const w = natural.w || width, h = natural.h || height;
  if (failed) return <div class="annot broken" role="img" aria-label={`${alt} (not available)`}>Image not available</div>;
  return (
    <div class="annot" style={w && h ? { aspectRatio: `${w} / ${h}` } : undefined}>
      <img src={src} alt={alt} data-testid={testid}
           onLoad={(e) => { const i = e.target as HTMLImageElement; setNatural({ w: i.naturalWidth, h: i.naturalHeight }); }}
           onError={() => setFailed(true)} />
      <BoxOverlay boxes={boxes} imgW={w} imgH={h} testid={overlayTestid} />
    </div>
  );
}

// Box geometry: ratio boxes (Rekognition BoundingBox, 0-1 of the image) to canvas pixels when an
// image of imgW x imgH is drawn letterboxed (aspect kept, centred) into a canvas of canW x canH.
export interface RatioBox { left: number; top: number; width: number; height: number }
export interface Rect { x: number; y: number; w: number; h: number }
// common.proto's BoundingBox as the API writes it (json_name: PascalCase), in every service.
export interface AwsBox { Left?: number; Top?: number; Width?: number; Height?: number }

// AwsBox -> RatioBox; absent members (proto JSON may omit nothing, but be safe) are 0.
export const ratioBox = (b: AwsBox | null | undefined): RatioBox =>
  ({ left: Number(b?.Left ?? 0), top: Number(b?.Top ?? 0), width: Number(b?.Width ?? 0), height: Number(b?.Height ?? 0) });

export function letterbox(imgW: number, imgH: number, canW: number, canH: number): Rect {
  if (imgW <= 0 || imgH <= 0 || canW <= 0 || canH <= 0) return { x: 0, y: 0, w: 0, h: 0 };
  const s = Math.min(canW / imgW, canH / imgH);
  const w = imgW * s, h = imgH * s;
  return { x: (canW - w) / 2, y: (canH - h) / 2, w, h };
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v || 0));

export function boxToCanvas(b: RatioBox, imgW: number, imgH: number, canW: number, canH: number): Rect {
  const v = letterbox(imgW, imgH, canW, canH);
  const l = clamp01(b.left), t = clamp01(b.top);
  const r = clamp01((b.left || 0) + (b.width || 0)), btm = clamp01((b.top || 0) + (b.height || 0));
  return { x: v.x + l * v.w, y: v.y + t * v.h, w: (r - l) * v.w, h: (btm - t) * v.h };
}

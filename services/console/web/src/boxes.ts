// Overlay boxes of the Try-it and Faces pages: the boxes and captions of each API answer
// (DetectFaces, DetectLabels, DetectProtectiveEquipment, MaskService/Classify,
// SearchFacesByImage, CompareFaces) as ratio boxes, in the JSON mapping of the protos
// (recognition: PascalCase, percentages; mask: lowerCamelCase fields, fractions; every
// BoundingBox PascalCase).
import { ratioBox, type RatioBox } from './geometry';

export type Layer = 'faces' | 'labels' | 'ppe' | 'masks' | 'search' | 'compare';
export interface OverlayBox { box: RatioBox; caption: string; layer: Layer; tone?: 'ok' | 'bad' | 'info' }

const pct = (v: any) => `${Math.round(Number(v ?? 0))}%`;
const frac = (v: any) => `${Math.round(Number(v ?? 0) * 100)}%`;

export function faceBoxes(r: any): OverlayBox[] {
  return (r?.FaceDetails ?? []).map((f: any, i: number) => {
    const parts = [`face ${i + 1}`, pct(f.Confidence)];
    if (f.AgeRange && (f.AgeRange.Low || f.AgeRange.High)) parts.push(`${f.AgeRange.Low}-${f.AgeRange.High} y`);
    const g = f.Gender?.Value;
    if (g && g !== 'GENDER_UNSPECIFIED') parts.push(String(g));
    return { box: ratioBox(f.BoundingBox), caption: parts.join(' · '), layer: 'faces' as Layer, tone: 'info' as const };
  });
}

export function labelBoxes(r: any): OverlayBox[] {
  const out: OverlayBox[] = [];
  for (const l of r?.Labels ?? []) {
    for (const inst of l.Instances ?? []) {
      out.push({ box: ratioBox(inst.BoundingBox), caption: `${l.Name} ${pct(inst.Confidence)}`, layer: 'labels' });
    }
  }
  return out;
}

export function ppeBoxes(r: any): OverlayBox[] {
  const out: OverlayBox[] = [];
  for (const p of r?.Persons ?? []) {
    out.push({ box: ratioBox(p.BoundingBox), caption: `person #${p.Id} ${pct(p.Confidence)}`, layer: 'ppe' });
    for (const part of p.BodyParts ?? []) {
      for (const eq of part.EquipmentDetections ?? []) {
        const covers = !!eq.CoversBodyPart?.Value;
        out.push({ box: ratioBox(eq.BoundingBox), layer: 'ppe', tone: covers ? 'ok' : 'bad',
                   caption: `${String(eq.Type).toLowerCase().replace(/_/g, ' ')} on ${String(part.Name).toLowerCase().replace(/_/g, ' ')}${covers ? '' : ' (not covering)'}` });
      }
    }
  }
  return out;
}

export function maskBoxes(r: any): OverlayBox[] {
  return (r?.results ?? []).map((m: any) => ({
    box: ratioBox(m.box), caption: `${String(m.label).replace(/_/g, ' ')} ${frac(m.confidence)}`, layer: 'masks' as Layer,
    tone: m.label === 'with_mask' ? ('ok' as const) : ('bad' as const),
  }));
}

// PPE summary: how many persons with / without the required equipment / indeterminate.
export function ppeSummary(r: any): { with: number; without: number; indeterminate: number } {
  const s = r?.Summary ?? {};
  return { with: (s.PersonsWithRequiredEquipment ?? []).length, without: (s.PersonsWithoutRequiredEquipment ?? []).length,
           indeterminate: (s.PersonsIndeterminate ?? []).length };
}

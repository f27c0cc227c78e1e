// Faces page logic: the ExternalImageId of an indexed photo from its file name (Rekognition's
// pattern [a-zA-Z0-9_.\-:]+, at most 255 characters: extension dropped, other characters '_'),
// and the best similarity of a CompareFaces answer.
export function externalIdOf(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '') || fileName;
  const id = base.replace(/[^a-zA-Z0-9_.\-:]+/g, '_').slice(0, 255);
  return id.replace(/^_+|_+$/g, '') || 'photo';
}

export function bestSimilarity(r: any): number | null {
  const m = (r?.FaceMatches ?? []).map((x: any) => Number(x?.Similarity ?? 0));
  return m.length ? Math.max(...m) : null;
}

// Display formatting shared by the pages: numbers, percentages, money, times, enum names.
export const fmtNum = (v: any, digits = 1) => {
  const n = Number(v);
  return isFinite(n) ? n.toLocaleString(undefined, { maximumFractionDigits: digits }) : '–';
};
// A fraction in [0, 1] as a percentage.
export const fmtFrac = (v: any) => `${fmtNum(Number(v) * 100, 1)}%`;
// A percentage in [0, 100] (recognition.proto's confidences and similarities).
export const fmtPct = (v: any) => `${fmtNum(v, 1)}%`;
export const fmtMoney = (v: number | null, currency: string) =>
  v === null || !isFinite(v) ? 'n/a' : `${v.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
export function fmtTime(iso: string): string {
  const d = new Date(iso);
  return iso && !isNaN(d.getTime()) ? d.toLocaleString() : '–';
}
// "FACE_WITHOUT_MASK" -> "face without mask".
export const enumLabel = (v: any) => String(v ?? '').toLowerCase().replace(/_/g, ' ');

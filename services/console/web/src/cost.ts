// Cost page logic. GET /api/cost answers the JSON of `stratus cost --json` (tools/cost/
// cost_command.h lists it): {prices:{provider,region,as_of,currency,hours_per_month,...},
// target_utilisation, services:[{service, mean_rps, peak_rps, active_fraction,
// work_seconds_per_request, work_source, cheapest, break_even_rps|null, break_even_note,
// serverless_monthly_per_rps|null, dedicated_curve:[[rps, monthly], ...],
// placements:{"dedicated-vm"|"spot-vm"|"serverless"|"pods":{available, monthly|null, detail}}}]}.
// Here: that report read into typed rows, and the chart series of the tool's own break-even
// model, monthly cost against a sustained req/s: serverless is the line
// serverless_monthly_per_rps * rate, dedicated VMs sized for that rate are the step curve
// dedicated_curve (not the dedicated-vm placement, which is sized for the peak). Nothing is
// recomputed here, so the break-even the tool reports lies on both lines.
export const PLACEMENTS = ['dedicated-vm', 'spot-vm', 'serverless', 'pods'] as const;
export type PlacementName = (typeof PLACEMENTS)[number];
export interface Placement { available: boolean; monthly: number | null; detail: string }
export interface ServiceCost {
  service: string; meanRps: number; peakRps: number; activeFraction: number; workSeconds: number;
  workSource: string; cheapest: string; breakEvenRps: number | null; breakEvenNote: string;
  serverlessMonthlyPerRps: number | null; dedicatedCurve: [number, number][];
  placements: Record<PlacementName, Placement>;
}
export interface CostReport {
  provider: string; region: string; asOf: string; currency: string; hoursPerMonth: number;
  targetUtilisation: number; services: ServiceCost[];
}

const isNum = (v: any): v is number => typeof v === 'number' && isFinite(v);
const num = (v: any, d = 0) => (isNum(v) ? v : d);
const str = (v: any) => (v === undefined || v === null ? '' : String(v));
// [[rps, monthly], ...] with every pair two finite numbers, else [] (an older tool's report).
function curveOf(v: any): [number, number][] {
  if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && isNum(p[0]) && isNum(p[1]))) return [];
  return v.map((p: number[]) => [p[0], p[1]] as [number, number]);
}

export function parseCostReport(j: any): CostReport {
  const p = j?.prices ?? {};
  const services: ServiceCost[] = (Array.isArray(j?.services) ? j.services : []).map((s: any) => {
    const placements = {} as Record<PlacementName, Placement>;
    for (const name of PLACEMENTS) {
      const x = s?.placements?.[name];
      placements[name] = x
        ? { available: !!x.available, monthly: typeof x.monthly === 'number' ? x.monthly : null, detail: str(x.detail) }
        : { available: false, monthly: null, detail: '' };
    }
    return {
      service: str(s?.service), meanRps: num(s?.mean_rps), peakRps: num(s?.peak_rps),
      activeFraction: num(s?.active_fraction), workSeconds: num(s?.work_seconds_per_request),
      workSource: str(s?.work_source), cheapest: str(s?.cheapest),
      breakEvenRps: typeof s?.break_even_rps === 'number' ? s.break_even_rps : null,
      breakEvenNote: str(s?.break_even_note),
      serverlessMonthlyPerRps: isNum(s?.serverless_monthly_per_rps) ? s.serverless_monthly_per_rps : null,
      dedicatedCurve: curveOf(s?.dedicated_curve), placements,
    };
  });
  return { provider: str(p.provider), region: str(p.region), asOf: str(p.as_of), currency: str(p.currency),
           hoursPerMonth: num(p.hours_per_month, 730), targetUtilisation: num(j?.target_utilisation), services };
}

// Columns of the break-even chart (uPlot's aligned data, x ascending): the dedicated curve's
// points as given (a step is two points at one rate), the serverless line at every x, and two
// marker rows, the break-even (break_even_rps, slope * break_even_rps) and the measured mean
// rate on the serverless line. Marker rows have no dedicated value (draw it with spanGaps).
// null when serverless is unavailable or the report has no curve.
export interface BreakEvenSeries {
  rps: number[]; dedicated: (number | null)[]; serverless: number[];
  breakEven: (number | null)[]; measured: (number | null)[];
}
export function breakEvenSeries(s: ServiceCost): BreakEvenSeries | null {
  const slope = s.serverlessMonthlyPerRps;
  if (slope === null || s.dedicatedCurve.length < 2) return null;
  type Row = { x: number; vm: number | null; be: number | null; now: number | null };
  const rows: Row[] = s.dedicatedCurve.map(([x, vm]) => ({ x, vm, be: null, now: null }));
  if (s.breakEvenRps !== null) rows.push({ x: s.breakEvenRps, vm: null, be: slope * s.breakEvenRps, now: null });
  rows.push({ x: s.meanRps, vm: null, be: null, now: slope * s.meanRps });
  rows.sort((a, b) => a.x - b.x);  // Stable: a step's two points keep their order.
  return {
    rps: rows.map((r) => r.x), dedicated: rows.map((r) => r.vm), serverless: rows.map((r) => slope * r.x),
    breakEven: rows.map((r) => r.be), measured: rows.map((r) => r.now),
  };
}

// Cost page logic. GET /api/cost answers the JSON of `stratus cost --json` (tools/cost/
// cost_command.cc): {prices:{provider,region,as_of,currency,hours_per_month,...},
// target_utilisation, services:[{service, mean_rps, peak_rps, active_fraction,
// work_seconds_per_request, work_source, cheapest, break_even_rps|null, break_even_note,
// placements:{"dedicated-vm"|"spot-vm"|"serverless"|"pods":{available, monthly|null, detail}}}]}.
// Here: that report read into typed rows, and the break-even between a dedicated VM (flat monthly
// cost) and serverless (cost proportional to the sustained request rate, as the tool prices it:
// every request one billed invocation), with chart series of monthly cost against req/s.
export interface CostModel { vmMonthly: number; serverlessFixed: number; perRequest: number }

// Rate at which serverless costs as much as the VM (perRequest per unit of rate); null when
// never (per-request price 0 or serverless' fixed part already above the VM).
export function breakEven(m: CostModel): number | null {
  if (!(m.perRequest > 0)) return null;
  const n = (m.vmMonthly - m.serverlessFixed) / m.perRequest;
  return n >= 0 && isFinite(n) ? n : null;
}

export function costSeries(m: CostModel, maxRequests: number, points = 50) {
  const req: number[] = [], vm: number[] = [], sl: number[] = [];
  for (let i = 0; i <= points; i++) {
    const r = (maxRequests * i) / points;
    req.push(r); vm.push(m.vmMonthly); sl.push(m.serverlessFixed + m.perRequest * r);
  }
  return { requests: req, vm, serverless: sl };
}

export const PLACEMENTS = ['dedicated-vm', 'spot-vm', 'serverless', 'pods'] as const;
export type PlacementName = (typeof PLACEMENTS)[number];
export interface Placement { available: boolean; monthly: number | null; detail: string }
export interface ServiceCost {
  service: string; meanRps: number; peakRps: number; activeFraction: number; workSeconds: number;
  workSource: string; cheapest: string; breakEvenRps: number | null; breakEvenNote: string;
  placements: Record<PlacementName, Placement>;
}
export interface CostReport {
  provider: string; region: string; asOf: string; currency: string; hoursPerMonth: number;
  targetUtilisation: number; services: ServiceCost[];
}

const num = (v: any, d = 0) => (typeof v === 'number' && isFinite(v) ? v : d);
const str = (v: any) => (v === undefined || v === null ? '' : String(v));

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
      breakEvenNote: str(s?.break_even_note), placements,
    };
  });
  return { provider: str(p.provider), region: str(p.region), asOf: str(p.as_of), currency: str(p.currency),
           hoursPerMonth: num(p.hours_per_month, 730), targetUtilisation: num(j?.target_utilisation), services };
}

// The VM-vs-serverless model of one service in req/s: the dedicated VMs' monthly cost as sized
// now, and serverless' monthly cost per req/s sustained (its measured monthly / mean rate).
// null when either placement is unavailable or there was no traffic to derive the slope from.
export function rpsModel(s: ServiceCost): CostModel | null {
  const vm = s.placements['dedicated-vm'], sl = s.placements.serverless;
  if (!vm.available || vm.monthly === null || !sl.available || sl.monthly === null || !(s.meanRps > 0)) return null;
  return { vmMonthly: vm.monthly, serverlessFixed: 0, perRequest: sl.monthly / s.meanRps };
}

// The x range of the break-even chart: past the break-even and the measured rates, never 0.
export function chartMaxRps(s: ServiceCost, m: CostModel): number {
  const be = s.breakEvenRps ?? breakEven(m) ?? 0;
  const top = Math.max(be * 2, s.meanRps * 2, s.peakRps * 1.2);
  return top > 0 ? top : 1;
}

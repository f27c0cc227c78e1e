// Cost page logic: the break-even request volume where a dedicated VM's flat monthly cost equals
// serverless cost (fixed + per-request), and chart series of monthly cost against requests.
export interface CostModel { vmMonthly: number; serverlessFixed: number; perRequest: number }

// Requests per month at which serverless costs as much as the VM; null when never (per-request
// price 0 or serverless' fixed part already above the VM).
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

const num = (v: any) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);
function pick(o: any, keys: string[]): number {
  for (const k of keys) { const v = num(o?.[k]); if (!isNaN(v)) return v; }
  return NaN;
}

// A service row of `stratus cost --json`, read tolerantly (snake or camel case).
export function modelOf(row: any): CostModel {
  const vm = pick(row, ['vm_monthly', 'vmMonthly', 'dedicated_monthly', 'vm']);
  const fixed = pick(row, ['serverless_fixed', 'serverlessFixed']);
  let per = pick(row, ['per_request', 'perRequest', 'serverless_per_request']);
  if (isNaN(per)) {
    const sm = pick(row, ['serverless_monthly', 'serverlessMonthly', 'serverless']);
    const rq = pick(row, ['requests_monthly', 'requestsMonthly', 'monthly_requests', 'requests']);
    per = rq > 0 && !isNaN(sm) ? (sm - (isNaN(fixed) ? 0 : fixed)) / rq : NaN;
  }
  return { vmMonthly: isNaN(vm) ? 0 : vm, serverlessFixed: isNaN(fixed) ? 0 : fixed, perRequest: isNaN(per) ? 0 : per };
}

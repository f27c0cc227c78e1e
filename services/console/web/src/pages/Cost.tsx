// Cost (/cost): GET /api/cost (`stratus cost --json`, read by cost.ts): per service a table of
// the monthly cost of each placement with the cheapest marked, and the tool's break-even model
// plotted against the sustained request rate: serverless, and dedicated VMs sized for that rate.
import { request } from '../api';
import { PLACEMENTS, breakEvenSeries, parseCostReport, type ServiceCost } from '../cost';
import { useAsync } from '../hooks/useAsync';
import { LineChart } from '../components/LineChart';
import { Empty, ErrorBox, Loading } from '../components/Status';
import { enumLabel, fmtMoney, fmtNum } from '../format';

function BreakEvenChart({ s, currency }: { s: ServiceCost; currency: string }) {
  const c = breakEvenSeries(s);
  if (!c) {
    return <p class="small muted">No break-even chart: {s.serverlessMonthlyPerRps === null ? 'serverless is not available for this service' : 'the report has no dedicated-VM curve'}.</p>;
  }
  return (
    <>
      <LineChart testid="cost-chart" title={`${s.service}: monthly cost against sustained requests per second`}
                 data={[c.rps, c.dedicated, c.serverless, c.breakEven, c.measured]} xLabel="requests/s sustained" yLabel={`${currency}/month`} height={220}
                 series={[{ label: 'dedicated VMs sized for that rate', stroke: '#3b6fd4', spanGaps: true },
                          { label: 'serverless', stroke: '#c9622a' },
                          { label: 'break-even', stroke: '#2e9e4f', points: true, width: 0 },
                          { label: 'measured (mean rate)', stroke: '#888', points: true, width: 0 }]} />
      <p class="small muted" data-testid="cost-chart-note">Both lines price a sustained rate; the table's dedicated VM is sized for the peak ({fmtNum(s.peakRps, 3)} req/s).</p>
    </>
  );
}

function ServiceTable({ s, currency }: { s: ServiceCost; currency: string }) {
  return (
    <section class="card" data-testid="cost-service" data-service={s.service} aria-labelledby={`h-cost-${s.service}`}>
      <h2 id={`h-cost-${s.service}`}>{s.service}</h2>
      <p class="small muted">{fmtNum(s.meanRps, 3)} req/s mean, {fmtNum(s.peakRps, 3)} peak, active {fmtNum(s.activeFraction * 100, 0)}% of the time;
        {' '}{fmtNum(s.workSeconds, 4)} vCPU-s per request ({s.workSource})</p>
      <div class="table-wrap">
        <table data-testid="cost-table">
          <thead><tr><th scope="col">Placement</th><th scope="col" class="num">Monthly</th><th scope="col">What was priced</th></tr></thead>
          <tbody>
            {PLACEMENTS.map((p) => {
              const x = s.placements[p];
              const cheapest = s.cheapest === p;
              return (
                <tr key={p} class={cheapest ? 'cheapest' : ''} data-testid="cost-row" data-placement={p}>
                  <th scope="row">{enumLabel(p.replace('-', '_'))}{cheapest && <span class="badge ok">cheapest</span>}</th>
                  <td class="num">{x.available ? fmtMoney(x.monthly, currency) : 'n/a'}</td>
                  <td class="small">{x.detail}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p data-testid="cost-break-even">{s.breakEvenRps !== null ? <>Break-even at <strong>{fmtNum(s.breakEvenRps, 3)} req/s</strong> sustained: </> : null}{s.breakEvenNote}</p>
      <BreakEvenChart s={s} currency={currency} />
    </section>
  );
}

export function Cost() {
  const r = useAsync(() => request<any>('GET', '/api/cost').then(parseCostReport), [], 60000);
  const rep = r.data;
  return (
    <>
      <h1>Cost</h1>
      {r.loading && !rep && <Loading what="Pricing the measured load" />}
      <ErrorBox error={r.error} retry={r.reload} />
      {rep && (
        <p class="muted">Prices: {rep.provider} {rep.region} as of {rep.asOf}, {rep.currency} per month of {fmtNum(rep.hoursPerMonth, 0)} h;
          machines sized for {fmtNum(rep.targetUtilisation * 100, 0)}% vCPU use.</p>
      )}
      {rep && !rep.services.length && <Empty>No service has measured load yet.</Empty>}
      <div class="grid two">
        {rep?.services.map((s) => <ServiceTable key={s.service} s={s} currency={rep.currency} />)}
      </div>
    </>
  );
}

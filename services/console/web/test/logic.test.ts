// Unit tests of the console's front-end logic (api client, geometry, SSE, filters, cost, forms).
import { describe, it, expect } from 'vitest';
import { ApiError, request, setCsrfToken, getSession } from '../src/api';
import { letterbox, boxToCanvas, ratioBox } from '../src/geometry';
import { parseSse, parseFrame } from '../src/sse';
import { listEventsRequest, liveQuery, matchesFilter } from '../src/filters';
import { breakEvenSeries, parseCostReport } from '../src/cost';
import { fieldOfError } from '../src/formErrors';

const fake = (status: number, body: unknown, seen: any[] = []) => (async (url: any, init: any) => {
  seen.push({ url, init });
  return new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}) as typeof fetch;

describe('api client', () => {
  it('turns an error body into ApiError', async () => {
    const f = fake(400, { error: { code: 'INVALID_ARGUMENT', message: 'bad uri', reason: 'R', metadata: { field: 'config.uri' } } });
    const e = await request<any>('POST', '/api/rpc/x/y', {}, f).catch((x: any) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code, e.message, e.reason, e.metadata.field]).toEqual([400, 'INVALID_ARGUMENT', 'bad uri', 'R', 'config.uri']);
  });
  it('handles a non-JSON error', async () => {
    const f = (async () => new Response('oops', { status: 502, statusText: 'Bad Gateway' })) as typeof fetch;
    const e = await request<any>('GET', '/api/services', undefined, f).catch((x: any) => x);
    expect(e.code).toBe('UNKNOWN'); expect(e.status).toBe(502);
  });
  it('adds X-CSRF-Token to POST/DELETE but not GET or login', async () => {
    const seen: any[] = [];
    setCsrfToken('tok1');
    await request('POST', '/api/rpc/a/b', {}, fake(200, {}, seen));
    await request('DELETE', '/api/session', undefined, fake(204, null, seen));
    await request('GET', '/api/services', undefined, fake(200, {}, seen));
    await request('POST', '/api/session', { apiKey: 'k' }, fake(200, {}, seen));
    expect(seen.map((s) => s.init.headers['X-CSRF-Token'])).toEqual(['tok1', 'tok1', undefined, undefined]);
  });
  it('getSession: 401 is null and sets the token otherwise', async () => {
    expect(await getSession(fake(401, { error: { code: 'UNAUTHENTICATED', message: 'no' } }))).toBeNull();
    const s = await getSession(fake(200, { keyId: 'k', name: 'n', scopes: [], csrfToken: 'T2' }));
    const seen: any[] = [];
    await request('PUT', '/x', {}, fake(200, {}, seen));
    expect(s?.keyId).toBe('k'); expect(seen[0].init.headers['X-CSRF-Token']).toBe('T2');
  });
});

describe('geometry', () => {
  it('letterboxes a wide image into a square canvas', () => {
    expect(letterbox(800, 400, 400, 400)).toEqual({ x: 0, y: 100, w: 400, h: 200 });
    expect(letterbox(400, 800, 400, 400)).toEqual({ x: 100, y: 0, w: 200, h: 400 });
  });
  it('maps ratio boxes to pixels with the offset and clamps', () => {
    expect(boxToCanvas({ left: 0.5, top: 0.5, width: 0.25, height: 0.5 }, 800, 400, 400, 400)).toEqual({ x: 200, y: 200, w: 100, h: 100 });
    const r = boxToCanvas({ left: -0.1, top: 0.9, width: 0.3, height: 0.5 }, 100, 100, 100, 100);
    [r.x, r.y, r.w, r.h].forEach((v, i) => expect(v).toBeCloseTo([0, 90, 20, 10][i]));
  });
});

describe('sse', () => {
  it('parses events, ids, multi-line data, comments and keeps the rest', () => {
    const r = parseSse(': ping\n\nid: 7\nevent: event\ndata: {"a":1}\n\nevent: frame\ndata: x\ndata: y\n\nevent: fr');
    expect(r.messages).toEqual([{ event: 'event', data: '{"a":1}', id: '7' }, { event: 'frame', data: 'x\ny' }]);
    expect(r.rest).toBe('event: fr');
  });
  it('parses a Frame (GetStreamFrameResponse JSON: PascalCase box, int64 strings)', () => {
    const f = parseFrame('{"stream":"cam1","sequence":"12","width":768,"height":432,"jpeg":"AA==","detections":[{"label":"person","confidence":0.7,"box":{"Left":0.1,"Top":0.2,"Width":0.3,"Height":0.4},"trackId":"4"}]}');
    expect(f.sequence).toBe('12'); expect(f.detections[0].label).toBe('person'); expect(f.width).toBe(768);
    expect(f.detections[0].trackId).toBe('4');
    expect(ratioBox(f.detections[0].box)).toEqual({ left: 0.1, top: 0.2, width: 0.3, height: 0.4 });
    expect(parseFrame('{"detections":[{"label":"car","box":{}}]}').detections[0].trackId).toBe('0');
  });
});

describe('event filters', () => {
  const f = { stream: 'cam1', types: ['PERSON_APPEARED'], label: 'pers', start: '2026-12-02T09:00:00Z', end: '' };
  it('builds ListEvents and live queries', () => {
    expect(listEventsRequest(f, 'p2')).toEqual({ pageSize: 100, newestFirst: true, stream: 'cam1', types: ['PERSON_APPEARED'], start: '2026-12-02T09:00:00.000Z', pageToken: 'p2' });
    expect(liveQuery(f, '5')).toBe('streams=cam1&types=PERSON_APPEARED&afterId=5');
    expect(liveQuery({ stream: '', types: [], label: '', start: '', end: '' })).toBe('');
  });
  it('matches label and time', () => {
    const ev = { stream: 'cam1', type: 'PERSON_APPEARED', labels: ['person'], time: '2026-12-02T09:30:00Z' };
    expect(matchesFilter(ev, f)).toBe(true);
    expect(matchesFilter({ ...ev, labels: ['car'] }, f)).toBe(false);
    expect(matchesFilter({ ...ev, time: '2026-12-02T08:00:00Z' }, f)).toBe(false);
  });
});

describe('cost', () => {
  // A report as `stratus cost --json` writes it: serverless at 7 per req/s and month, machines
  // of 60 carrying 10 req/s each, so the lines cross at 60 / 7 = 8.57 req/s; the curve runs to
  // twice that.
  const report = {
    prices: { file: 'p.yaml', provider: 'aws', region: 'eu-west-1', as_of: '2026-01', currency: 'USD', hours_per_month: 730 },
    target_utilisation: 0.6,
    services: [{ service: 'mask', mean_rps: 2, peak_rps: 8, active_fraction: 0.5, work_seconds_per_request: 0.02,
                 work_source: 'measured cpu', cheapest: 'serverless', break_even_rps: 60 / 7,
                 break_even_note: 'serverless is cheaper below 8.57 req/s sustained (now 2 req/s)',
                 serverless_monthly_per_rps: 7,
                 dedicated_curve: [[0, 60], [10, 60], [10, 120], [120 / 7, 120]],
                 placements: { 'dedicated-vm': { available: true, monthly: 60, detail: '1x c7i.large' },
                               'spot-vm': { available: true, monthly: 40, detail: '2x' },
                               serverless: { available: true, monthly: 14, detail: 'lambda' },
                               pods: { available: false, monthly: null, detail: 'n/a' } } }],
  };
  // The value of drawn points at x: the segment of distinct rates holding it, joined straight.
  const at = (xs: number[], ys: (number | null)[], x: number) => {
    const pts = xs.map((px, i) => [px, ys[i]] as const).filter((p): p is readonly [number, number] => p[1] !== null);
    for (let i = 0; i + 1 < pts.length; i++) {
      const [x0, y0] = pts[i], [x1, y1] = pts[i + 1];
      if (x0 < x1 && x0 <= x && x <= x1) return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
    throw new Error(`${x} outside the points`);
  };

  it('reads the report of `stratus cost --json` with its break-even model', () => {
    const r = parseCostReport(report);
    expect([r.currency, r.hoursPerMonth, r.services.length]).toEqual(['USD', 730, 1]);
    const s = r.services[0];
    expect([s.service, s.breakEvenRps, s.cheapest, s.placements.pods.monthly, s.placements.pods.available])
      .toEqual(['mask', 60 / 7, 'serverless', null, false]);
    expect(s.serverlessMonthlyPerRps).toBe(7);
    expect(s.dedicatedCurve).toEqual(report.services[0].dedicated_curve);
    const old = parseCostReport({ services: [{ service: 'x', break_even_rps: null, dedicated_curve: [[0, 'a']] }] }).services[0];
    expect([old.breakEvenRps, old.serverlessMonthlyPerRps, old.dedicatedCurve]).toEqual([null, null, []]);
  });

  it('charts the model: the break-even lies on both lines, the measured point on serverless', () => {
    const s = parseCostReport(report).services[0];
    const c = breakEvenSeries(s)!;
    const n = c.rps.length;
    expect([c.dedicated, c.serverless, c.breakEven, c.measured].map((col) => col.length)).toEqual([n, n, n, n]);
    for (let i = 0; i + 1 < n; i++) expect(c.rps[i]).toBeLessThanOrEqual(c.rps[i + 1]);
    // The curve's points in order (steps included), the serverless line through 0 at slope 7.
    expect(c.rps.filter((_, i) => c.dedicated[i] !== null)).toEqual([0, 10, 10, 120 / 7]);
    expect(c.dedicated.filter((v) => v !== null)).toEqual([60, 60, 120, 120]);
    c.rps.forEach((x, i) => expect(c.serverless[i]).toBeCloseTo(7 * x, 9));
    // One break-even marker at (break_even_rps, slope * break_even_rps), on both lines.
    const be = c.breakEven.findIndex((v) => v !== null);
    expect(c.breakEven.filter((v) => v !== null)).toHaveLength(1);
    expect(c.rps[be]).toBeCloseTo(60 / 7, 9);
    expect(c.breakEven[be]).toBeCloseTo(60, 9);
    expect(at(c.rps, c.dedicated, c.rps[be])).toBeCloseTo(c.breakEven[be]!, 6);
    expect(at(c.rps, c.serverless, c.rps[be])).toBeCloseTo(c.breakEven[be]!, 6);
    // The measured mean rate on the serverless line.
    const now = c.measured.findIndex((v) => v !== null);
    expect([c.rps[now], c.measured[now]]).toEqual([2, 14]);
    // No chart without serverless or without a curve.
    expect(breakEvenSeries({ ...s, serverlessMonthlyPerRps: null })).toBeNull();
    expect(breakEvenSeries({ ...s, dedicatedCurve: [] })).toBeNull();
    // Without a break-even (serverless cheaper at any rate) only the measured marker is added.
    const never = breakEvenSeries({ ...s, breakEvenRps: null })!;
    expect(never.breakEven.every((v) => v === null)).toBe(true);
    expect(never.rps).toHaveLength(5);
  });
});

describe('form errors', () => {
  const fields = ['name', 'uri', 'sampleFps', 'collectionId'];
  it('uses metadata.field, then the message, then the form', () => {
    expect(fieldOfError(new ApiError(400, 'INVALID_ARGUMENT', 'bad', '', { field: 'config.sample_fps' }), fields).field).toBe('sampleFps');
    expect(fieldOfError(new ApiError(400, 'INVALID_ARGUMENT', 'collection_id is required with FACE_SEARCH'), fields).field).toBe('collectionId');
    expect(fieldOfError(new ApiError(400, 'INVALID_ARGUMENT', 'unsupported uri scheme'), fields).field).toBe('uri');
    expect(fieldOfError(new ApiError(500, 'INTERNAL', 'boom'), fields)).toEqual({ field: '', message: 'boom' });
  });
});

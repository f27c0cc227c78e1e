// Unit tests of the console's front-end logic (api client, geometry, SSE, filters, cost, forms).
import { describe, it, expect } from 'vitest';
import { ApiError, request, setCsrfToken, getSession } from '../src/api';
import { letterbox, boxToCanvas, ratioBox } from '../src/geometry';
import { parseSse, parseFrame } from '../src/sse';
import { listEventsRequest, liveQuery, matchesFilter } from '../src/filters';
import { breakEven, costSeries, parseCostReport, rpsModel, chartMaxRps } from '../src/cost';
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
  it('computes the break-even', () => {
    expect(breakEven({ vmMonthly: 100, serverlessFixed: 0, perRequest: 0.001 })).toBeCloseTo(100000);
    expect(breakEven({ vmMonthly: 100, serverlessFixed: 200, perRequest: 0.001 })).toBeNull();
    expect(breakEven({ vmMonthly: 100, serverlessFixed: 0, perRequest: 0 })).toBeNull();
  });
  it('builds series', () => {
    const s = costSeries({ vmMonthly: 10, serverlessFixed: 1, perRequest: 0.5 }, 10, 2);
    expect(s).toEqual({ requests: [0, 5, 10], vm: [10, 10, 10], serverless: [1, 3.5, 6] });
  });
  it('reads the report of `stratus cost --json` and models VM vs serverless per req/s', () => {
    const r = parseCostReport({
      prices: { file: 'p.yaml', provider: 'aws', region: 'eu-west-1', as_of: '2026-01', currency: 'USD', hours_per_month: 730 },
      target_utilisation: 0.6,
      services: [{ service: 'mask', mean_rps: 2, peak_rps: 5, active_fraction: 0.5, work_seconds_per_request: 0.02,
                   work_source: 'measured cpu', cheapest: 'serverless', break_even_rps: 8.5,
                   break_even_note: 'serverless is cheaper below 8.5 req/s sustained (now 2 req/s)',
                   placements: { 'dedicated-vm': { available: true, monthly: 60, detail: '1x c7i.large' },
                                 'spot-vm': { available: true, monthly: 40, detail: '2x' },
                                 serverless: { available: true, monthly: 14, detail: 'lambda' },
                                 pods: { available: false, monthly: null, detail: 'n/a' } } }],
    });
    expect([r.currency, r.hoursPerMonth, r.services.length]).toEqual(['USD', 730, 1]);
    const s = r.services[0];
    expect([s.service, s.breakEvenRps, s.cheapest, s.placements.pods.monthly, s.placements.pods.available]).toEqual(['mask', 8.5, 'serverless', null, false]);
    const m = rpsModel(s)!;
    expect(m).toEqual({ vmMonthly: 60, serverlessFixed: 0, perRequest: 7 });
    expect(breakEven(m)).toBeCloseTo(60 / 7);
    expect(chartMaxRps(s, m)).toBe(17);
    expect(rpsModel({ ...s, meanRps: 0 })).toBeNull();
    expect(parseCostReport({ services: [{ service: 'x', break_even_rps: null }] }).services[0].breakEvenRps).toBeNull();
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

// Unit tests of the pages' pure logic: routes, overlay boxes of each API answer, trend series,
// stream form <-> StreamConfig, face ids from file names.
import { describe, it, expect, vi } from 'vitest';
import { routeOf, shouldRoute } from '../src/router';
import { faceBoxes, labelBoxes, ppeBoxes, maskBoxes, ppeSummary } from '../src/boxes';
import { trendSeries, windowStarts } from '../src/trends';
import { externalIdOf, bestSimilarity } from '../src/faces';
import { emptyForm, formOf, validate, addStreamRequest } from '../src/streamForm';
import { request, setUnauthorizedHandler } from '../src/api';

describe('router', () => {
  it('maps paths to routes', () => {
    expect(['/', '/streams', '/events/', '/index.html', '/nope', '/faces'].map(routeOf))
      .toEqual(['/', '/streams', '/events', '/', 'notfound', '/faces']);
  });
  it('routes plain same-origin clicks only', () => {
    const click = { button: 0, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, defaultPrevented: false };
    const o = 'http://h:8086';
    expect(shouldRoute(click, '/events', null, o)).toBe(true);
    expect(shouldRoute({ ...click, ctrlKey: true }, '/events', null, o)).toBe(false);
    expect(shouldRoute(click, '/events', '_blank', o)).toBe(false);
    expect(shouldRoute(click, 'http://other/x', null, o)).toBe(false);
    expect(shouldRoute(click, '/api/snapshot?ref=a', null, o)).toBe(false);
  });
});

describe('api 401 handler', () => {
  it('fires on a 401 of an API call but not of /api/session', async () => {
    const f = (async () => new Response('{}', { status: 401 })) as typeof fetch;
    const h = vi.fn();
    setUnauthorizedHandler(h);
    await request('POST', '/api/rpc/stratus.v1.IngestService/ListStreams', {}, f).catch(() => {});
    await request('GET', '/api/session', undefined, f).catch(() => {});
    expect(h).toHaveBeenCalledTimes(1);
    setUnauthorizedHandler(() => {});
  });
});

describe('overlay boxes', () => {
  const bb = { Left: 0.1, Top: 0.2, Width: 0.3, Height: 0.4 };
  const rb = { left: 0.1, top: 0.2, width: 0.3, height: 0.4 };
  it('reads DetectFaces and DetectLabels (PascalCase, percentages)', () => {
    const f = faceBoxes({ FaceDetails: [{ BoundingBox: bb, Confidence: 99.4, AgeRange: { Low: 20, High: 30 }, Gender: { Value: 'Female', Confidence: 90 } }] });
    expect(f).toEqual([{ box: rb, caption: 'face 1 · 99% · 20-30 y · Female', layer: 'faces', tone: 'info' }]);
    const l = labelBoxes({ Labels: [{ Name: 'Car', Confidence: 90, Instances: [{ BoundingBox: bb, Confidence: 88 }] }, { Name: 'Road', Instances: [] }] });
    expect(l).toEqual([{ box: rb, caption: 'Car 88%', layer: 'labels' }]);
  });
  it('reads PPE and Classify (lowerCamel fields, fractions)', () => {
    const p = ppeBoxes({ Persons: [{ Id: 0, Confidence: 95, BoundingBox: bb, BodyParts: [{ Name: 'FACE', EquipmentDetections: [{ BoundingBox: bb, Type: 'FACE_COVER', CoversBodyPart: { Value: false } }] }] }],
                         Summary: { PersonsWithRequiredEquipment: [], PersonsWithoutRequiredEquipment: [0], PersonsIndeterminate: [] } });
    expect(p.map((x) => x.caption)).toEqual(['person #0 95%', 'face cover on face (not covering)']);
    expect(p[1].tone).toBe('bad');
    expect(ppeSummary({ Summary: { PersonsWithoutRequiredEquipment: [0, 1] } })).toEqual({ with: 0, without: 2, indeterminate: 0 });
    const m = maskBoxes({ results: [{ box: bb, label: 'with_mask', confidence: 0.971 }, { box: bb, label: 'without_mask', confidence: 0.5 }] });
    expect(m.map((x) => [x.caption, x.tone])).toEqual([['with mask 97%', 'ok'], ['without mask 50%', 'bad']]);
    expect(m[0].box).toEqual(rb);
  });
});

describe('trends', () => {
  it('fills the omitted windows and splits per topic', () => {
    const start = Date.parse('2026-12-02T00:00:00Z'), end = Date.parse('2026-12-02T03:00:00Z');
    const xs = windowStarts(start, end, 3600);
    expect(xs.length).toBe(3);
    const buckets = [
      { topic: 'b', windowStart: '2026-12-02T01:00:00Z', count: '3', positiveCount: '2', negativeCount: '1', neutralCount: '0', mixedCount: '0',
        meanScore: { Positive: 0.6, Negative: 0.3, Neutral: 0.05, Mixed: 0.05 } },
      { topic: 'a', windowStart: '2026-12-02T00:00:00Z', count: '1', positiveCount: '0', negativeCount: '0', neutralCount: '1', mixedCount: '0',
        meanScore: { Positive: 0.1, Negative: 0.1, Neutral: 0.7, Mixed: 0.1 } },
    ];
    const c = trendSeries(buckets, start, end, 3600, 'count');
    expect(c.map((t) => [t.topic, t.total])).toEqual([['a', 1], ['b', 3]]);
    expect(c[1].data).toEqual([xs, [0, 2, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]]);
    const s = trendSeries(buckets, start, end, 3600, 'score');
    expect(s[0].data[3]).toEqual([0.7, null, null]);
  });
});

describe('faces', () => {
  it('derives ExternalImageId from a file name', () => {
    expect(externalIdOf('alice smith.jpg')).toBe('alice_smith');
    expect(externalIdOf('C:\\fakepath\\bob.v2.PNG')).toBe('bob.v2');
    expect(externalIdOf('ü.jpg')).toBe('photo');
    expect(externalIdOf('x'.repeat(300) + '.jpg').length).toBe(255);
  });
  it('takes the best similarity', () => {
    expect(bestSimilarity({ FaceMatches: [{ Similarity: 40 }, { Similarity: 91.5 }] })).toBe(91.5);
    expect(bestSimilarity({ FaceMatches: [] })).toBeNull();
  });
});

describe('stream form', () => {
  it('round-trips a StreamConfig and builds AddStream', () => {
    const cfg = { name: 'cam1', uri: 'rtsp://h/s', transport: 'TCP', sampleFps: 2.5, motionGating: true,
                  analyses: ['OBJECTS', 'FACE_SEARCH'], classes: ['person', 'car'], collectionId: 'staff', minConfidence: 0,
                  faceMatchThreshold: 90, sampleEveryNFrames: 3 };
    const f = formOf(cfg);
    expect(f.classes).toBe('person, car'); expect(f.minConfidence).toBe('');
    expect(validate(f)).toEqual({});
    expect(addStreamRequest(f, true)).toEqual({ replace: true, config: { name: 'cam1', uri: 'rtsp://h/s', transport: 'TCP', sampleFps: 2.5, sampleEveryNFrames: 3,
      motionGating: true, analyses: ['OBJECTS', 'FACE_SEARCH'], classes: ['person', 'car'], collectionId: 'staff', faceMatchThreshold: 90 } });
  });
  it('checks fields before sending', () => {
    const e = validate({ ...emptyForm(), name: 'bad name', uri: 'ftp://x', analyses: ['FACE_SEARCH'], sampleFps: '-1', sampleEveryNFrames: '1.5', minConfidence: '2' });
    expect(Object.keys(e).sort()).toEqual(['collectionId', 'minConfidence', 'name', 'sampleEveryNFrames', 'sampleFps', 'uri']);
    expect(validate({ ...emptyForm(), name: 'a', uri: 'rtsp://u:***@h/' }).uri).toMatch(/masked/);
  });
});

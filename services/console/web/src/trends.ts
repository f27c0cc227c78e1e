// Trends page logic: GetTrends buckets (sentiment.proto's TrendBucket, lowerCamelCase, int64
// counts as strings, meanScore a SentimentScore with PascalCase members) into per-topic uPlot
// data: x = every window start of the period in Unix seconds (windows without posts, which the
// API omits, get 0 posts and no mean score), then one series per sentiment.
export const SENTIMENTS = ['Positive', 'Negative', 'Neutral', 'Mixed'] as const;
export type Metric = 'count' | 'score';

export interface TopicSeries { topic: string; total: number; data: (number | null)[][] }

const countKey: Record<string, string> = { Positive: 'positiveCount', Negative: 'negativeCount',
                                           Neutral: 'neutralCount', Mixed: 'mixedCount' };

// Window starts aligned to multiples of windowS since the epoch, covering [start, end).
export function windowStarts(startMs: number, endMs: number, windowS: number): number[] {
  const w = Math.max(60, Math.floor(windowS));
  const out: number[] = [];
  for (let t = Math.floor(startMs / 1000 / w) * w; t * 1000 < endMs && out.length < 10000; t += w) out.push(t);
  return out;
}

export function trendSeries(buckets: any[], startMs: number, endMs: number, windowS: number, metric: Metric): TopicSeries[] {
  const xs = windowStarts(startMs, endMs, windowS);
  const index = new Map(xs.map((x, i) => [x, i]));
  const topics = new Map<string, TopicSeries>();
  for (const b of buckets ?? []) {
    const topic = String(b?.topic ?? '');
    let t = topics.get(topic);
    if (!t) {
      t = { topic, total: 0,
            data: [xs, ...SENTIMENTS.map(() => xs.map(() => (metric === 'count' ? 0 : null)))] };
      topics.set(topic, t);
    }
    const x = Math.floor(Date.parse(b?.windowStart ?? '') / 1000);
    const i = index.get(x);
    t.total += Number(b?.count ?? 0);
    if (i === undefined) continue;
    SENTIMENTS.forEach((s, k) => {
      t!.data[k + 1][i] = metric === 'count' ? Number(b?.[countKey[s]] ?? 0) : Number(b?.meanScore?.[s] ?? 0);
    });
  }
  return [...topics.values()].sort((a, b) => a.topic.localeCompare(b.topic));
}

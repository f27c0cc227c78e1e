// Trends (/trends): SentimentService/GetTrends over a chosen period and window, one uPlot line
// chart per topic: posts per sentiment, or the mean score of each sentiment (trends.ts).
import { useMemo, useState } from 'preact/hooks';
import { rpc } from '../api';
import { trendSeries, SENTIMENTS, type Metric } from '../trends';
import { useAsync } from '../hooks/useAsync';
import { LineChart } from '../components/LineChart';
import { Empty, ErrorBox, Loading } from '../components/Status';
import { fmtNum } from '../format';

const PERIODS = [{ label: 'Last 6 hours', s: 6 * 3600 }, { label: 'Last 24 hours', s: 86400 }, { label: 'Last 7 days', s: 7 * 86400 },
                 { label: 'Last 30 days', s: 30 * 86400 }];
const WINDOWS = [{ label: '5 minutes', s: 300 }, { label: '15 minutes', s: 900 }, { label: '1 hour', s: 3600 }, { label: '1 day', s: 86400 }];
const COLOURS: Record<string, string> = { Positive: '#2e9e4f', Negative: '#d64545', Neutral: '#7f8c9a', Mixed: '#c9a227' };

export function Trends() {
  const [period, setPeriod] = useState(86400);
  const [windowS, setWindowS] = useState(3600);
  const [metric, setMetric] = useState<Metric>('count');
  const [topics, setTopics] = useState('');
  const [query, setQuery] = useState({ period, windowS, topics });
  const t = useAsync(async () => {
    const end = Date.now(), start = end - query.period * 1000;
    const list = query.topics.split(',').map((s) => s.trim()).filter(Boolean);
    const r = await rpc<any>('SentimentService', 'GetTrends', { topics: list, start: new Date(start).toISOString(),
                                                                end: new Date(end).toISOString(), windowSeconds: query.windowS });
    return { buckets: r.buckets ?? [], start, end };
  }, [query]);
  const series = useMemo(() => (t.data ? trendSeries(t.data.buckets, t.data.start, t.data.end, query.windowS, metric) : []), [t.data, metric]);
  const tooMany = period / windowS > 10000;
  const chartSeries = SENTIMENTS.map((s) => ({ label: s, stroke: COLOURS[s], spanGaps: metric === 'score' }));
  return (
    <>
      <h1>Trends</h1>
      <form class="card row wrap" onSubmit={(e) => { e.preventDefault(); if (!tooMany) setQuery({ period, windowS, topics }); }} aria-label="Trend options">
        <div class="field"><label for="tr-period">Period</label>
          <select id="tr-period" data-testid="trend-period" value={period} onChange={(e) => setPeriod(Number((e.target as HTMLSelectElement).value))}>
            {PERIODS.map((p) => <option key={p.s} value={p.s}>{p.label}</option>)}</select></div>
        <div class="field"><label for="tr-window">Window</label>
          <select id="tr-window" data-testid="trend-window" value={windowS} onChange={(e) => setWindowS(Number((e.target as HTMLSelectElement).value))}>
            {WINDOWS.map((w) => <option key={w.s} value={w.s}>{w.label}</option>)}</select></div>
        <div class="field"><label for="tr-topics">Topics</label>
          <input id="tr-topics" data-testid="trend-topics" value={topics} placeholder="all; or a, b"
                 onInput={(e) => setTopics((e.target as HTMLInputElement).value)} /></div>
        <fieldset class="field"><legend>Show</legend>
          <div class="checks">
            <label class="check"><input type="radio" name="metric" checked={metric === 'count'} onChange={() => setMetric('count')} data-testid="trend-metric-count" />posts</label>
            <label class="check"><input type="radio" name="metric" checked={metric === 'score'} onChange={() => setMetric('score')} data-testid="trend-metric-score" />mean scores</label>
          </div></fieldset>
        <button type="submit" disabled={tooMany} data-testid="trend-apply">Show</button>
        {tooMany && <span class="field-error" role="alert">Too many windows: choose a wider window.</span>}
      </form>
      {t.loading && <Loading what="Loading trends" />}
      <ErrorBox error={t.error} retry={t.reload} />
      {t.data && !series.length && <Empty>No posts in this period.</Empty>}
      <div class="grid charts">
        {series.map((s) => (
          <section key={s.topic} class="card" data-testid="trend-topic" data-topic={s.topic} aria-labelledby={`h-topic-${s.topic}`}>
            <h2 id={`h-topic-${s.topic}`}>{s.topic || '(no topic)'} <span class="muted small">{fmtNum(s.total, 0)} posts</span></h2>
            <LineChart testid="trend-chart" title={`Sentiment of ${s.topic || 'posts without a topic'} over time`} data={s.data} xTime
                       series={chartSeries} yLabel={metric === 'count' ? 'posts' : 'mean score'} yRange={metric === 'score' ? [0, 1] : undefined} height={220} />
          </section>
        ))}
      </div>
    </>
  );
}

// A uPlot line chart sized to its container's width (ResizeObserver): created once, fed new
// data with setData, destroyed on unmount. The data is uPlot's columnar [xs, ...ys].
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { useSize } from '../hooks/useSize';

export interface ChartSeries { label: string; stroke: string; dash?: number[]; points?: boolean; width?: number; spanGaps?: boolean }

export function LineChart({ data, series, xTime = false, xLabel = '', yLabel = '', yRange, height = 240, testid, title }:
    { data: (number | null)[][]; series: ChartSeries[]; xTime?: boolean; xLabel?: string; yLabel?: string;
      yRange?: [number, number]; height?: number; testid?: string; title: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { width } = useSize(box);
  const key = JSON.stringify([series, xTime, xLabel, yLabel, yRange, height]);
  useEffect(() => {
    if (!box.current || width <= 0) return;
    if (!plot.current) {
      const opts: uPlot.Options = {
        width, height, scales: { x: { time: xTime }, ...(yRange ? { y: { range: yRange } } : {}) },
        axes: [{ label: xLabel, stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' } },
               { label: yLabel, stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' } }],
        series: [{ label: xLabel || 'x' }, ...series.map((s) => ({
          label: s.label, stroke: s.stroke, width: s.width ?? 2, dash: s.dash, spanGaps: s.spanGaps ?? false,
          points: s.points ? { show: true, size: 7, fill: s.stroke } : {} }))],
      };
      plot.current = new uPlot(opts, data as uPlot.AlignedData, box.current);
    } else {
      plot.current.setSize({ width, height });
    }
  }, [width, key]);
  useEffect(() => { plot.current?.setData(data as uPlot.AlignedData); }, [data]);
  useEffect(() => () => { plot.current?.destroy(); plot.current = null; }, []);
  useEffect(() => () => { plot.current?.destroy(); plot.current = null; }, [key]);
  return <figure class="chart" data-testid={testid} aria-label={title} role="img"><div ref={box} /></figure>;
}

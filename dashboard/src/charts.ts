/**
 * One uPlot chart per zone: devices per minute over time. The chart is created once, when its box first comes
 * near the screen, and fed with `setData`. Suppressed buckets are gaps in the line (never zeros) and are shaded
 * with a hatch behind it, so a reader sees where counts were hidden because fewer than k devices were seen.
 * Slightly over 400 lines because uPlot's options, the readout, the hatch and the event marks all draw on the one
 * chart and share its state.
 */
import uPlot from 'uplot';
import { dateFormat, numberFormat } from './intl-cache.ts';
import { perMinute, type Series, type TimeWindow } from './series.ts';

/** Estimated people (or passers) per minute and their 95 % interval, one value per bucket (null: none). */
export interface ChartEstimate {
  value: (number | null)[];
  low: (number | null)[];
  high: (number | null)[];
}

export interface ChartTexts {
  /** Name of the plotted series, e.g. "Devices per minute". */
  series: string;
  time: string;
  /** Legend value of a fully hidden bucket. */
  hidden: string;
  /** Legend note of an hour with some hidden minutes; `{n}` is replaced. */
  hiddenMinutesInHour: string;
  /** Name of the estimate line, e.g. "Estimated people (per minute)", and of its interval. */
  estimate: string;
  estimateInterval: string;
}

export interface ChartOptions {
  locale: string;
  texts: ChartTexts;
  /** Shows the time and value under the cursor (empty when the cursor is off the chart). */
  readout: HTMLElement;
}

export const COLORS = {
  line: '#0f766e',
  fill: 'rgba(15, 118, 110, 0.14)',
  hatch: 'rgba(120, 130, 145, 0.55)',
  hatchBackground: 'rgba(138, 148, 163, 0.08)',
  partial: 'rgba(138, 148, 163, 0.13)',
  axis: '#3f4752',
  grid: 'rgba(63, 71, 82, 0.12)',
  estimate: '#6d28d9',
  estimateBand: 'rgba(109, 40, 217, 0.12)',
  estimateBound: 'rgba(109, 40, 217, 0.45)',
  mark: 'rgba(180, 83, 9, 0.10)',
  markEdge: '#b45309',
  markText: '#7c2d12',
} as const;

/** A marked period (an event) on a chart: a band from `from` to `to` (Unix seconds) with its name. */
export interface ChartMark {
  from: number;
  to: number;
  label: string;
}

/** The marks of each chart box: kept by the box, so a chart made again (language, step) draws them too. */
const MARKS = new WeakMap<HTMLElement, ChartMark[]>();
const CHARTS = new WeakMap<HTMLElement, ZoneChart>();

/** Shows `marks` on the chart in `container` (and on any chart made there later). */
export function setChartMarks(container: HTMLElement, marks: ChartMark[]): void {
  MARKS.set(container, marks);
  container.dataset.marks = String(marks.length);
  CHARTS.get(container)?.redraw();
}

/** Series indices in the plot's data: time, devices, estimate, its high and its low bound. */
const EST = 2;
const EST_HIGH = 3;
const EST_LOW = 4;

const HEIGHT_PX = { narrow: 220, wide: 260 } as const;

const WHOLE_INCREMENTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 25_000, 50_000, 100_000];

export class ZoneChart {
  /**
   * Made with the first data (`update`), not before: a chart made empty would lay out its box and draw its axes
   * once for nothing, and a page of many cards pays that for each before its first figures.
   */
  private plot: uPlot | null = null;
  /**
   * The data of a chart not made yet because its box is not near the screen (a page of 11 cards has 2 or 3 in
   * view): it is made when the box comes within half a screen of the viewport (`visibility`), so the first figures
   * wait only for the charts a reader can see. Once made, a chart is fed at once wherever it is.
   */
  private pending: uPlot.AlignedData | null = null;
  /** Whether the box is within half a screen of the viewport, as the observer last said (it reports at once). */
  private near = false;
  private readonly visibility: IntersectionObserver;
  private readonly opts: Omit<uPlot.Options, 'width' | 'height'>;
  private readonly container: HTMLElement;
  private readonly resizeObserver: ResizeObserver;
  private window: TimeWindow;
  private suppressed: number[] = [];
  private hatch: CanvasPattern | null = null;
  private resizeFrame = 0;
  /**
   * The box's width as the resize observer last reported it (null: not yet). A chart made with it needs no
   * layout of the page first: reading `clientWidth` would force one for each of the cards as its series comes.
   */
  private observedWidth: number | null = null;
  /** The estimate's name in the readout (people or passers: known once a series has come). */
  private estimateLabel: string;

  constructor(container: HTMLElement, win: TimeWindow, options: ChartOptions) {
    this.container = container;
    this.window = win;
    const { locale, texts, readout } = options;
    this.estimateLabel = texts.estimate;
    const numberFmt = numberFormat(locale, { maximumFractionDigits: 1 });
    const timeFmt = dateFormat(locale, { hour: '2-digit', minute: '2-digit' });
    const dayFmt = dateFormat(locale, { weekday: 'short', day: 'numeric', month: 'short' });
    const fullFmt = dateFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    const ms = (t: number) => new Date(t * 1000);

    this.opts = {
      pxAlign: 0,
      cursor: { points: { size: 7 }, drag: { x: false, y: false } },
      legend: { show: false }, // the readout below the chart takes its place
      scales: {
        x: { time: true, range: () => [this.window.from, this.window.to] },
        y: { range: (_u, _min, max) => [0, niceMax(max)] },
      },
      axes: [
        {
          stroke: COLORS.axis,
          grid: { stroke: COLORS.grid, width: 1 },
          ticks: { stroke: COLORS.grid, width: 1 },
          space: 64,
          values: (_u, splits, _axisIdx, _space, incr) => {
            let previousDay = '';
            return splits.map((t) => {
              const day = dayFmt.format(ms(t));
              if (incr >= 86400) return day;
              const label = day !== previousDay ? `${timeFmt.format(ms(t))}\n${day}` : timeFmt.format(ms(t));
              previousDay = day;
              return label;
            });
          },
        },
        {
          stroke: COLORS.axis,
          grid: { stroke: COLORS.grid, width: 1 },
          ticks: { show: false },
          size: 44,
          // Minute counts are whole devices: no 2.5 on the axis. Hourly averages may have fractions.
          ...(win.step === 60 ? { incrs: WHOLE_INCREMENTS } : {}),
          values: (_u, splits) => splits.map((v) => numberFmt.format(v)),
        },
      ],
      series: [
        { label: texts.time },
        {
          label: texts.series,
          stroke: COLORS.line,
          fill: COLORS.fill,
          width: 2,
          spanGaps: false,
          points: { size: 5, fill: COLORS.line, filter: (u, seriesIdx, show) => (show ? null : isolatedPoints(u.data[seriesIdx])) },
        },
        // The estimate: a dashed line in its own colour, inside a band of its 95 % interval (empty without one).
        {
          label: texts.estimate,
          stroke: COLORS.estimate,
          width: 2,
          dash: [6, 4],
          spanGaps: false,
          points: { size: 5, fill: COLORS.estimate, filter: (u, seriesIdx, show) => (show ? null : isolatedPoints(u.data[seriesIdx])) },
        },
        { label: `${texts.estimateInterval} (high)`, stroke: COLORS.estimateBound, width: 1, spanGaps: false, points: { show: false } },
        { label: `${texts.estimateInterval} (low)`, stroke: COLORS.estimateBound, width: 1, spanGaps: false, points: { show: false } },
      ],
      bands: [{ series: [EST_HIGH, EST_LOW], fill: COLORS.estimateBand }],
      hooks: {
        drawClear: [(u) => this.drawSuppressed(u), (u) => this.drawMarks(u)],
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            const t = idx == null ? undefined : u.data[0][idx];
            if (idx == null || t === undefined) {
              readout.textContent = '';
              return;
            }
            const v = u.data[1][idx];
            const hiddenHere = this.suppressed[idx] ?? 0;
            let value: string;
            if (v == null) value = hiddenHere > 0 ? texts.hidden : '–';
            else if (hiddenHere > 0 && this.window.step > 60) {
              value = `${numberFmt.format(v)} (${texts.hiddenMinutesInHour.replace('{n}', String(hiddenHere))})`;
            } else value = numberFmt.format(v);
            const est = u.data[EST]?.[idx];
            const estText =
              est == null
                ? ''
                : ` · ${this.estimateLabel}: ${numberFmt.format(est)} (${texts.estimateInterval}: ${numberFmt.format(u.data[EST_LOW]?.[idx] ?? est)}–${numberFmt.format(u.data[EST_HIGH]?.[idx] ?? est)})`;
            readout.textContent = `${fullFmt.format(ms(t))}: ${value}${estText}`;
          },
        ],
      },
    };
    this.resizeObserver = new ResizeObserver((entries) => {
      const box = entries[entries.length - 1]?.contentRect;
      if (box !== undefined) this.observedWidth = box.width; // the box has no padding: its content box is its client box
      if (this.plot === null) return; // sized when it is made
      cancelAnimationFrame(this.resizeFrame);
      this.resizeFrame = requestAnimationFrame(() => this.plot?.setSize(this.size()));
    });
    this.resizeObserver.observe(container);
    this.visibility = new IntersectionObserver(
      (entries) => {
        this.near = entries[entries.length - 1]?.isIntersecting ?? this.near;
        if (this.near && this.pending !== null) this.make(this.pending);
      },
      { rootMargin: '50% 0px' },
    );
    this.visibility.observe(container);
    delete container.dataset.drawn; // set once this chart is made (tests wait for it)
    CHARTS.set(container, this);
  }

  redraw(): void {
    this.plot?.redraw(false);
  }

  /** Shows `series` (bucket starts in `window`) in `window`, with the estimate per bucket when there is one. */
  update(series: Series, win: TimeWindow, estimate: ChartEstimate | null = null): void {
    this.window = win;
    this.suppressed = series.suppressed;
    const values = perMinute(series, win.step, Date.now() / 1000);
    const none = series.t.map(() => null);
    const est = estimate !== null && estimate.value.length === series.t.length ? estimate : { value: none, low: none, high: none };
    const data: uPlot.AlignedData = [series.t, values as number[], est.value as number[], est.high as number[], est.low as number[]];
    if (this.plot !== null) this.plot.setData(data);
    else if (this.near) this.make(data);
    else this.pending = data; // made when the observer says the box came near the screen
    const released = values.filter((v) => v !== null).length;
    this.container.dataset.buckets = String(series.t.length);
    this.container.dataset.released = String(released);
    this.container.dataset.estimated = String(est.value.filter((v) => v !== null).length);
  }

  private make(data: uPlot.AlignedData): void {
    this.pending = null;
    this.visibility.disconnect(); // made once: from now on it is fed wherever it is
    this.plot = new uPlot({ ...this.opts, ...this.size() }, data, this.container);
    this.container.dataset.drawn = '1';
  }

  /** The estimate's name in the readout. */
  setEstimateLabel(label: string): void {
    this.estimateLabel = label;
  }

  destroy(): void {
    if (CHARTS.get(this.container) === this) CHARTS.delete(this.container);
    cancelAnimationFrame(this.resizeFrame);
    this.resizeObserver.disconnect();
    this.visibility.disconnect();
    this.pending = null;
    this.plot?.destroy();
    this.plot = null;
  }

  private size(): { width: number; height: number } {
    const width = Math.max(240, Math.floor(this.observedWidth ?? this.container.clientWidth));
    return { width, height: width < 560 ? HEIGHT_PX.narrow : HEIGHT_PX.wide };
  }

  /** Shades each run of suppressed buckets: hatched where the whole bucket is hidden, lighter where part of it is. */
  private drawSuppressed(u: uPlot): void {
    const t = u.data[0];
    const devices = u.data[1];
    const step = this.window.step;
    const { ctx, bbox } = u;
    const left = bbox.left;
    const right = bbox.left + bbox.width;
    ctx.save();
    let i = 0;
    while (i < t.length) {
      const hidden = this.suppressed[i] ?? 0;
      if (hidden === 0) {
        i++;
        continue;
      }
      const full = devices[i] == null;
      let j = i + 1;
      while (j < t.length && (this.suppressed[j] ?? 0) > 0 && (devices[j] == null) === full && t[j] === t[j - 1] + step) j++;
      const x0 = Math.max(left, Math.round(u.valToPos(t[i], 'x', true)));
      const x1 = Math.min(right, Math.round(u.valToPos(t[j - 1] + step, 'x', true)));
      if (x1 > x0) {
        if (full) {
          ctx.fillStyle = COLORS.hatchBackground;
          ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
          ctx.fillStyle = this.hatchPattern(ctx) ?? COLORS.partial;
        } else {
          ctx.fillStyle = COLORS.partial;
        }
        ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
      }
      i = j;
    }
    ctx.restore();
  }

  /** Each marked period that overlaps the chart: a light band, edges, and its name at the top. */
  private drawMarks(u: uPlot): void {
    const marks = MARKS.get(this.container) ?? [];
    if (marks.length === 0) return;
    const { ctx, bbox } = u;
    const left = bbox.left;
    const right = bbox.left + bbox.width;
    const px = Math.max(1, devicePixelRatio);
    ctx.save();
    ctx.font = `${Math.round(11 * px)}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    for (const mark of marks) {
      const x0 = Math.max(left, Math.round(u.valToPos(mark.from, 'x', true)));
      const x1 = Math.min(right, Math.round(u.valToPos(mark.to, 'x', true)));
      if (x1 <= x0) continue;
      ctx.fillStyle = COLORS.mark;
      ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
      ctx.fillStyle = COLORS.markEdge;
      ctx.fillRect(x0, bbox.top, x1 - x0, Math.round(3 * px));
      ctx.fillStyle = COLORS.markText;
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, bbox.top, Math.max(x1 - x0, 80 * px), bbox.height);
      ctx.clip();
      ctx.fillText(mark.label, x0 + 3 * px, bbox.top + 5 * px);
      ctx.restore();
    }
    ctx.restore();
  }

  private hatchPattern(ctx: CanvasRenderingContext2D): CanvasPattern | null {
    if (this.hatch !== null) return this.hatch;
    this.hatch = hatchPattern(ctx);
    return this.hatch;
  }
}

/**
 * The hatch's pattern, made once for every chart of the page (for the screen's pixel ratio): a pattern belongs to
 * no canvas, and making one from the tile costs a few milliseconds per chart.
 */
let hatchPatternCache: { ratio: number; pattern: CanvasPattern | null } | null = null;
function hatchPattern(ctx: CanvasRenderingContext2D): CanvasPattern | null {
  if (hatchPatternCache !== null && hatchPatternCache.ratio === devicePixelRatio) return hatchPatternCache.pattern;
  const tile = hatchTile();
  const pattern = tile === null ? null : ctx.createPattern(tile, 'repeat');
  hatchPatternCache = { ratio: devicePixelRatio, pattern };
  return pattern;
}

/** The hatch's tile, drawn once for every chart of the page (for the screen's pixel ratio). */
let hatchTileCache: { ratio: number; tile: HTMLCanvasElement } | null = null;
function hatchTile(): HTMLCanvasElement | null {
  if (hatchTileCache !== null && hatchTileCache.ratio === devicePixelRatio) return hatchTileCache.tile;
  const size = Math.round(9 * Math.max(1, devicePixelRatio));
  const tile = document.createElement('canvas');
  tile.width = size;
  tile.height = size;
  const g = tile.getContext('2d');
  if (g === null) return null;
  g.strokeStyle = COLORS.hatch;
  g.lineWidth = Math.max(1, devicePixelRatio);
  g.beginPath();
  // One diagonal per tile, plus its two corner continuations, so the tiles join into unbroken lines.
  g.moveTo(0, size);
  g.lineTo(size, 0);
  g.moveTo(-size / 2, size / 2);
  g.lineTo(size / 2, -size / 2);
  g.moveTo(size / 2, size * 1.5);
  g.lineTo(size * 1.5, size / 2);
  g.stroke();
  hatchTileCache = { ratio: devicePixelRatio, tile };
  return tile;
}

/** A y maximum a little above the data, at least 5 so an almost empty chart does not look busy. */
function niceMax(max: number | null): number {
  if (max === null || !Number.isFinite(max) || max <= 4) return 5;
  const raw = max * 1.12;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * magnitude >= raw) ?? 10;
  return nice * magnitude;
}

/** Indices of values with a gap on both sides: a line cannot show them, so they are drawn as points. */
function isolatedPoints(values: ArrayLike<number | null | undefined>): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] == null) continue;
    if ((i === 0 || values[i - 1] == null) && (i === values.length - 1 || values[i + 1] == null)) out.push(i);
  }
  return out;
}

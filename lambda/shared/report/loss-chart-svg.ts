/**
 * A small line chart of loss curves as an inline SVG string: one polyline per curve, axes with
 * tick labels, grid lines and a legend (wrapped onto more rows when the curves' labels do not
 * fit on one, e.g. a leaderboard overlaying up to 8 variants). Pure; needs no fonts, scripts or images, so it can be
 * embedded in a self-contained HTML file.
 */
import { niceTicks } from './chart-ticks';
import { escapeHtml } from './html-escape';

/** One line of the chart. */
export interface ChartSeries {
  /** Legend text. */
  readonly label: string;
  /** (x, y) points, e.g. (step, loss); non-finite points are skipped. */
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** Stroke colour (CSS colour). @default a colour of the built-in palette */
  readonly color?: string;
  /** Draw the line dashed (tells series apart without colour). @default false */
  readonly dashed?: boolean;
}

/** Size of the SVG in pixels. */
export interface ChartSize {
  readonly width: number;
  readonly height: number;
}

/** Texts of the chart. */
export interface ChartLabels {
  /** Accessible title (also shown as a tooltip). @default "Loss by training step" */
  readonly title?: string;
  /** @default "Step" */
  readonly xLabel?: string;
  /** @default "Loss" */
  readonly yLabel?: string;
}

/**
 * Colours that stay apart for the common kinds of colour blindness (blue, orange, green, purple),
 * then four more for charts of up to 8 curves (pink, brown, teal, grey); callers overlaying more
 * than four curves should dash some of them too, so lines differ by more than colour.
 */
const PALETTE = ['#1f6feb', '#d9480f', '#2b8a3e', '#7048e8', '#bf3989', '#8a5a00', '#0a7e8c', '#57606a'];
/** Height of one legend row, in pixels. */
const LEGEND_ROW = 20;
const FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\"";
const MARGIN = { top: 40, right: 24, bottom: 48, left: 68 };
/** Curves with at most this many points also get a dot per point (one point alone draws no line). */
const MARKER_LIMIT = 40;

function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function tickLabel(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/**
 * Draws the curves. An empty chart (no finite point) still has its frame and says so.
 *
 * @example lossChartSvg([{ label: 'Training', points: [[1, 2.1], [2, 1.7]] }], { width: 640, height: 320 })
 */
export function lossChartSvg(curves: readonly ChartSeries[], size: ChartSize, labels: ChartLabels = {}): string {
  const { width, height } = size;
  if (!(width > MARGIN.left + MARGIN.right && height > MARGIN.top + MARGIN.bottom)) {
    throw new RangeError(`lossChartSvg needs at least ${MARGIN.left + MARGIN.right + 1} x ${MARGIN.top + MARGIN.bottom + 1} pixels, got ${width} x ${height}.`);
  }
  const title = labels.title ?? 'Loss by training step';
  const series = curves.map((curve, i) => ({
    label: curve.label,
    color: curve.color ?? PALETTE[i % PALETTE.length],
    dashed: curve.dashed ?? false,
    points: curve.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const all = series.flatMap((s) => s.points);
  // Legend entries left to right, wrapping to a new row when the next would pass the right edge.
  const legend: Array<{ x: number; row: number }> = [];
  let legendX = MARGIN.left;
  let row = 0;
  for (const s of series) {
    const entryWidth = 34 + 7 * (s.label.length + (s.points.length === 0 ? 10 : 0)) + 24;
    if (legendX > MARGIN.left && legendX + entryWidth - 24 > width - MARGIN.right) {
      row++;
      legendX = MARGIN.left;
    }
    legend.push({ x: legendX, row });
    legendX += entryWidth;
  }
  const top = MARGIN.top + row * LEGEND_ROW;
  if (!(height > top + MARGIN.bottom)) {
    throw new RangeError(`lossChartSvg needs more than ${top + MARGIN.bottom} pixels of height for ${row + 1} legend rows, got ${height}.`);
  }
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" ${FONT} font-size="12">`,
    `<title>${escapeHtml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  const plot = { left: MARGIN.left, right: width - MARGIN.right, top, bottom: height - MARGIN.bottom };

  if (all.length === 0) {
    parts.push(
      `<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="#c9ced6"/>`,
      `<text x="${px((plot.left + plot.right) / 2)}" y="${px((plot.top + plot.bottom) / 2)}" text-anchor="middle" fill="#57606a">No loss data recorded</text>`,
      '</svg>',
    );
    return parts.join('');
  }

  const xAxis = niceTicks(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])), Math.max(2, Math.floor((plot.right - plot.left) / 90)));
  const yAxis = niceTicks(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])), Math.max(2, Math.floor((plot.bottom - plot.top) / 45)));
  const sx = (x: number) => plot.left + ((x - xAxis.min) / (xAxis.max - xAxis.min)) * (plot.right - plot.left);
  const sy = (y: number) => plot.bottom - ((y - yAxis.min) / (yAxis.max - yAxis.min)) * (plot.bottom - plot.top);

  // Grid and tick labels.
  for (const y of yAxis.ticks) {
    parts.push(
      `<line x1="${plot.left}" y1="${px(sy(y))}" x2="${plot.right}" y2="${px(sy(y))}" stroke="#e6e9ee"/>`,
      `<text x="${plot.left - 8}" y="${px(sy(y))}" text-anchor="end" dominant-baseline="middle" fill="#57606a">${tickLabel(y, yAxis.decimals)}</text>`,
    );
  }
  for (const x of xAxis.ticks) {
    parts.push(
      `<line x1="${px(sx(x))}" y1="${plot.bottom}" x2="${px(sx(x))}" y2="${plot.bottom + 5}" stroke="#57606a"/>`,
      `<text x="${px(sx(x))}" y="${plot.bottom + 18}" text-anchor="middle" fill="#57606a">${tickLabel(x, xAxis.decimals)}</text>`,
    );
  }
  // Axes and their titles.
  parts.push(
    `<line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plot.bottom}" stroke="#57606a"/>`,
    `<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}" stroke="#57606a"/>`,
    `<text x="${px((plot.left + plot.right) / 2)}" y="${height - 10}" text-anchor="middle" fill="#24292f">${escapeHtml(labels.xLabel ?? 'Step')}</text>`,
    `<text transform="translate(16 ${px((plot.top + plot.bottom) / 2)}) rotate(-90)" text-anchor="middle" fill="#24292f">${escapeHtml(labels.yLabel ?? 'Loss')}</text>`,
  );
  // Lines, then dots for short series.
  for (const s of series) {
    if (s.points.length === 0) continue;
    const points = s.points.map(([x, y]) => `${px(sx(x))},${px(sy(y))}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline points="${points}" fill="none" stroke="${escapeHtml(s.color)}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"${dash}/>`);
    if (s.points.length <= MARKER_LIMIT) {
      for (const [x, y] of s.points) parts.push(`<circle cx="${px(sx(x))}" cy="${px(sy(y))}" r="3" fill="${escapeHtml(s.color)}"/>`);
    }
  }
  // Legend along the top, left-aligned with the plot.
  series.forEach((s, i) => {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const { x, row: r } = legend[i];
    const y = 16 + r * LEGEND_ROW;
    parts.push(
      `<line x1="${x}" y1="${y}" x2="${x + 28}" y2="${y}" stroke="${escapeHtml(s.color)}" stroke-width="2"${dash}/>`,
      `<text x="${x + 34}" y="${y}" dominant-baseline="middle" fill="#24292f">${escapeHtml(s.label)}${s.points.length === 0 ? ' (no data)' : ''}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

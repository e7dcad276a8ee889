/** The inline SVG loss chart: one polyline per curve with every point, axes, ticks, legend, escaping. */
import { latencyStats, lossChartSvg, nearestRankPercentile, niceTicks } from '../../lambda/shared/report';

const SIZE = { width: 600, height: 300 };

function polylines(svg: string): string[][] {
  return [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1].split(' '));
}

describe('lossChartSvg', () => {
  const training = Array.from({ length: 57 }, (_, i) => [i + 1, 2 / (i + 1)] as const);
  const validation = [[10, 1.1], [20, 0.7], [30, 0.6]] as const;
  const svg = lossChartSvg(
    [
      { label: 'Training loss', points: training },
      { label: 'Validation loss', points: validation, dashed: true },
    ],
    SIZE,
  );

  it('draws one polyline per curve with one point per data point', () => {
    expect(polylines(svg).map((p) => p.length)).toEqual([training.length, validation.length]);
    expect(svg).toContain('stroke-dasharray');
  });

  it('places points inside the plot, lower loss lower on screen', () => {
    const [line] = polylines(svg);
    const coords = line.map((p) => p.split(',').map(Number));
    for (const [x, y] of coords) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(SIZE.width);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(SIZE.height);
    }
    // x grows with the step; y (screen) grows as the loss falls.
    expect(coords[coords.length - 1][0]).toBeGreaterThan(coords[0][0]);
    expect(coords[coords.length - 1][1]).toBeGreaterThan(coords[0][1]);
  });

  it('labels the axes with ticks and shows a legend', () => {
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts).toEqual(expect.arrayContaining(['Training loss', 'Validation loss', 'Step', 'Loss']));
    // Step ticks: round numbers covering 1..57.
    expect(texts).toEqual(expect.arrayContaining(['0', '60']));
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="600" height="300" viewBox="0 0 600 300"/);
    expect(svg.endsWith('</svg>')).toBe(true);
  });

  it('escapes labels', () => {
    const hostile = lossChartSvg([{ label: '<script>x</script>', points: [[1, 1], [2, 0.5]] }], SIZE, { title: 'a & b' });
    expect(hostile).not.toContain('<script>');
    expect(hostile).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(hostile).toContain('<title>a &amp; b</title>');
  });

  it('marks the points of short curves, so a single point still shows', () => {
    const single = lossChartSvg([{ label: 'Validation', points: [[5, 0.5]] }], SIZE);
    expect(polylines(single).map((p) => p.length)).toEqual([1]);
    expect(single.match(/<circle /g)).toHaveLength(1);
  });

  it('says so when there is no data', () => {
    const empty = lossChartSvg([{ label: 'Training', points: [] }], SIZE);
    expect(polylines(empty)).toEqual([]);
    expect(empty).toContain('No loss data recorded');
  });

  it('refuses a size too small for axes', () => {
    expect(() => lossChartSvg([], { width: 50, height: 50 })).toThrow(RangeError);
  });
});

describe('niceTicks', () => {
  it('chooses round steps that cover the range', () => {
    expect(niceTicks(0.31, 2.46, 5)).toMatchObject({ step: 0.5, ticks: [0, 0.5, 1, 1.5, 2, 2.5], decimals: 1 });
    expect(niceTicks(1, 57, 5)).toMatchObject({ step: 10, min: 0, max: 60 });
    expect(niceTicks(0.3, 0.5, 4).ticks).toEqual([0.3, 0.35, 0.4, 0.45, 0.5]);
  });

  it('widens a range of zero width', () => {
    const ticks = niceTicks(2, 2, 4);
    expect(ticks.min).toBeLessThan(2);
    expect(ticks.max).toBeGreaterThan(2);
  });
});

describe('latency percentiles', () => {
  it('uses the nearest rank', () => {
    const sorted = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(nearestRankPercentile(sorted, 50)).toBe(50);
    expect(nearestRankPercentile(sorted, 90)).toBe(90);
    expect(nearestRankPercentile(sorted, 91)).toBe(100);
    expect(nearestRankPercentile([7], 90)).toBe(7);
  });

  it('is null without measurements and sorts its input', () => {
    expect(latencyStats([])).toBeNull();
    expect(latencyStats([300, 100, 200])).toEqual({ count: 3, p50Ms: 200, p90Ms: 300, meanMs: 200, maxMs: 300 });
  });
});

/**
 * buildEvaluationReport: every figure is checked against what the fixture's construction
 * implies (outcome table, latencies and tokens by record number), not against captured output.
 */
import { buildEvaluationReport, DEFAULT_LOWEST_COUNT, EvaluationReport, PredictionRecord } from '../../lambda/shared/report';
import { OUTCOME_SCORES, OUTCOMES, chartUri, sampleInput } from './report-fixtures';

const report = buildEvaluationReport(sampleInput());

function expectedMeans(side: 0 | 1): { f1: number; exactMatch: number } {
  const scores = OUTCOMES.map((o) => OUTCOME_SCORES[o[side]]);
  return {
    f1: (100 * scores.reduce((s, x) => s + x.f1, 0)) / OUTCOMES.length,
    exactMatch: (100 * scores.reduce((s, x) => s + x.exactMatch, 0)) / OUTCOMES.length,
  };
}

describe('scores', () => {
  it('scores each model over every record, a missing answer counting 0', () => {
    for (const [side, key] of [[0, 'base'], [1, 'fineTuned']] as const) {
      const expected = expectedMeans(side);
      const scores = report.scores[key];
      expect(scores.f1).toBeCloseTo(expected.f1, 9);
      expect(scores.exactMatch).toBeCloseTo(expected.exactMatch, 9);
      expect(scores.count).toBe(OUTCOMES.length);
      expect(scores.missing).toBe(OUTCOMES.filter((o) => o[side] === 'missing').length);
      expect(scores.answered).toBe(OUTCOMES.length - scores.missing);
    }
  });

  it('computes the relative improvement and the absolute deltas', () => {
    const base = expectedMeans(0);
    const fineTuned = expectedMeans(1);
    expect(report.relativeImprovementPercent).toBeCloseTo(((fineTuned.f1 - base.f1) / base.f1) * 100, 9);
    expect(report.absoluteDelta.f1).toBeCloseTo(fineTuned.f1 - base.f1, 9);
    expect(report.absoluteDelta.exactMatch).toBeCloseTo(fineTuned.exactMatch - base.exactMatch, 9);
  });

  it('has no relative improvement when the base model scores 0', () => {
    const input = sampleInput();
    const wrong = input.base.map((r) => ({ ...r, prediction: 'no idea' }));
    const zero = buildEvaluationReport({ ...input, base: wrong });
    expect(zero.scores.base.f1).toBe(0);
    expect(zero.relativeImprovementPercent).toBeNull();
  });

  it('counts records the fine-tuned model improved, worsened and left unchanged', () => {
    const f1 = (o: (typeof OUTCOMES)[number], side: 0 | 1) => OUTCOME_SCORES[o[side]].f1;
    expect(report.recordComparison).toEqual({
      improved: OUTCOMES.filter((o) => f1(o, 1) > f1(o, 0)).length,
      worsened: OUTCOMES.filter((o) => f1(o, 1) < f1(o, 0)).length,
      unchanged: OUTCOMES.filter((o) => f1(o, 1) === f1(o, 0)).length,
    });
  });
});

describe('records', () => {
  it('holds one row per record with both answers and percentage scores', () => {
    expect(report.records).toHaveLength(OUTCOMES.length);
    report.records.forEach((row) => {
      const [base, fineTuned] = OUTCOMES.find((_, j) => row.recordId === `rec-${String(j).padStart(3, '0')}`)!;
      expect(row.baseF1).toBeCloseTo(100 * OUTCOME_SCORES[base].f1, 9);
      expect(row.fineTunedF1).toBeCloseTo(100 * OUTCOME_SCORES[fineTuned].f1, 9);
      expect(row.baseExactMatch).toBe(base === 'right');
      expect(row.basePrediction === null).toBe(base === 'missing');
      expect(row.fineTunedPrediction === null).toBe(fineTuned === 'missing');
      expect(row.references).toEqual([`answer ${Number(row.recordId.slice(4))}`]);
    });
  });

  it('keeps base order, then records only the fine-tuned side has', () => {
    const input = sampleInput();
    const baseIds = input.base.map((r) => r.recordId);
    const onlyFineTuned = input.fineTuned.map((r) => r.recordId).filter((id) => !baseIds.includes(id));
    expect(report.records.map((r) => r.recordId)).toEqual([...baseIds, ...onlyFineTuned]);
  });

  it('shows the fine-tuned question, or the base one when the fine-tuned answer is missing', () => {
    const input = sampleInput();
    for (const row of report.records) {
      const fineTuned = input.fineTuned.find((r) => r.recordId === row.recordId);
      const base = input.base.find((r) => r.recordId === row.recordId);
      expect(row.question).toBe((fineTuned ?? base)!.question);
    }
  });

  it('lists the lowest-scoring records by fine-tuned F1, then base F1', () => {
    const ordered = [...report.records].sort((a, b) => a.fineTunedF1 - b.fineTunedF1 || a.baseF1 - b.baseF1);
    expect(report.lowest).toHaveLength(DEFAULT_LOWEST_COUNT);
    expect(report.lowest.map((r) => [r.fineTunedF1, r.baseF1])).toEqual(ordered.slice(0, DEFAULT_LOWEST_COUNT).map((r) => [r.fineTunedF1, r.baseF1]));
    for (let i = 1; i < report.lowest.length; i++) {
      const [a, b] = [report.lowest[i - 1], report.lowest[i]];
      expect(a.fineTunedF1 < b.fineTunedF1 || (a.fineTunedF1 === b.fineTunedF1 && a.baseF1 <= b.baseF1)).toBe(true);
    }
    expect(buildEvaluationReport(sampleInput({ lowestCount: 3 })).lowest).toHaveLength(3);
  });

  it('lists only records that lost points, however many examples are asked for', () => {
    // Record 0 is right on both sides: the only one with full marks.
    const lost = OUTCOMES.filter(([b, f]) => !(b === 'right' && f === 'right')).length;
    const all = buildEvaluationReport(sampleInput({ lowestCount: 100 }));
    expect(all.lostPoints).toBe(lost);
    expect(all.lowest).toHaveLength(lost);
    expect(all.lowest.every((r) => r.baseF1 < 100 || r.fineTunedF1 < 100)).toBe(true);
    expect(all.lowest.map((r) => r.recordId)).not.toContain('rec-000');
    // A record only the base model got wrong lost points too (fine-tuned F1 100, base below).
    expect(all.lowest.map((r) => r.recordId)).toContain('rec-004');
  });

  it('has no examples and counts no lost points when every answer was exact', () => {
    const exact = (records: readonly PredictionRecord[]) => records.map((r) => ({ ...r, prediction: r.references[0] }));
    const input = sampleInput();
    const perfect = buildEvaluationReport({ ...input, base: exact(input.fineTuned), fineTuned: exact(input.fineTuned) });
    expect(perfect.records.length).toBeGreaterThan(0);
    expect(perfect.lostPoints).toBe(0);
    expect(perfect.lowest).toEqual([]);
  });

  it('keeps each record\'s line in the test file and the images its question shows', () => {
    const byId = new Map(report.records.map((r) => [r.recordId, r]));
    OUTCOMES.forEach((_, i) => {
      const record = byId.get(`rec-${String(i).padStart(3, '0')}`)!;
      expect(record.line).toBe(i + 3);
      expect(record.imageUris).toEqual(i % 3 === 0 ? [chartUri(i)] : []);
    });
    // Without a line (older predictions), the record says so rather than guessing.
    const noLines = buildEvaluationReport(sampleInput({ base: sampleInput().base.map(({ line: _l, ...r }) => r), fineTuned: sampleInput().fineTuned.map(({ line: _l, ...r }) => r) }));
    expect(noLines.records.every((r) => r.line === null)).toBe(true);
  });

  it('is not marked as made with stand-ins unless the input says so', () => {
    expect(report.madeWithStandIns).toBe(false);
    expect(buildEvaluationReport(sampleInput({ madeWithStandIns: true })).madeWithStandIns).toBe(true);
  });
});

describe('latency, tokens, costs, training', () => {
  it('takes nearest-rank p50 and p90 of the answered records', () => {
    // Base latencies are 100 + 10 i for the 11 answered records i = 0..8, 10, 11:
    // sorted 100..180, 200, 210; p50 is the 6th (150), p90 the 10th (ceil(9.9)) = 200.
    expect(report.latency.base).toEqual({ count: 11, p50Ms: 150, p90Ms: 200, meanMs: expect.any(Number), maxMs: 210 });
    const baseLatencies = sampleInput().base.map((r) => r.latencyMs);
    expect(report.latency.base!.meanMs).toBeCloseTo(baseLatencies.reduce((a, b) => a + b, 0) / baseLatencies.length, 9);
    // Fine-tuned: 1000 + 100 i for i = 0..7, 9, 10, 11 -> 6th is 1500, 10th is 2000.
    expect(report.latency.fineTuned).toMatchObject({ count: 11, p50Ms: 1500, p90Ms: 2000, maxMs: 2100 });
  });

  it('sums tokens of the answered records and passes the usage figures on', () => {
    const input = sampleInput();
    const sum = (records: readonly PredictionRecord[], key: 'inputTokens' | 'outputTokens') => records.reduce((n, r) => n + r[key], 0);
    expect(report.tokens).toEqual({
      base: { input: sum(input.base, 'inputTokens'), output: sum(input.base, 'outputTokens') },
      fineTuned: { input: sum(input.fineTuned, 'inputTokens'), output: sum(input.fineTuned, 'outputTokens') },
    });
    expect(report.costs).toEqual({ ...input.costs, modelUnitHours: input.costs.provisionedThroughputHours! * input.costs.modelUnits! });
    const withoutThroughput = buildEvaluationReport(sampleInput({ costs: { ...input.costs, provisionedThroughputHours: undefined } }));
    expect(withoutThroughput.costs.modelUnitHours).toBeUndefined();
  });

  it('keeps the training summary and the run with its duration', () => {
    const input = sampleInput();
    expect(report.training).toEqual(input.training);
    expect(report.run.durationSeconds).toBe((Date.parse(input.run.finishedAt) - Date.parse(input.run.startedAt)) / 1000);
    expect(buildEvaluationReport(sampleInput({ training: undefined })).training).toBeNull();
  });

  it('is plain JSON with a schema version', () => {
    const copy = JSON.parse(JSON.stringify(report)) as EvaluationReport;
    expect(copy).toEqual(report);
    expect(copy.schemaVersion).toBe(1);
  });

  it('handles a model that answered nothing', () => {
    const input = sampleInput({ fineTuned: [] });
    const empty = buildEvaluationReport(input);
    // Only the base model's records remain to be scored.
    const count = input.base.length;
    expect(empty.scores.fineTuned).toEqual({ f1: 0, exactMatch: 0, count, answered: 0, missing: count });
    expect(empty.latency.fineTuned).toBeNull();
    expect(empty.gate.passed).toBe(false);
  });
});

describe('input checks', () => {
  const input = sampleInput();
  it.each([
    ['a duplicate record', { base: [...input.base, input.base[0]] }, /base holds record "rec-000" twice/],
    [
      'references that differ between the models',
      { fineTuned: input.fineTuned.map((r, i) => (i === 0 ? { ...r, references: ['other'] } : r)) },
      /record "rec-000" has different references/,
    ],
    ['a negative latency', { base: input.base.map((r, i) => (i === 2 ? { ...r, latencyMs: -1 } : r)) }, /base\[2\] \(record "rec-002"\)\.latencyMs must be a number >= 0/],
    ['no references', { fineTuned: input.fineTuned.map((r, i) => (i === 1 ? { ...r, references: [] } : r)) }, /fineTuned\[1\] \(record "rec-001"\)\.references must be a non-empty array/],
    ['a finish before the start', { run: { ...input.run, finishedAt: '2024-09-24T00:00:00Z' } }, /finishedAt .* is before run.startedAt/],
    ['an unreadable time', { run: { ...input.run, startedAt: 'yesterday' } }, /run.startedAt must be an ISO 8601 timestamp/],
    ['a fractional lowest count', { lowestCount: 2.5 }, /lowestCount must be a whole number/],
    ['a line that is not a line number', { base: input.base.map((r, i) => (i === 1 ? { ...r, line: 0 } : r)) }, /base\[1\] \(record "rec-001"\)\.line must be a whole number >= 1, got 0/],
    ['an image that is not an S3 URI', { fineTuned: input.fineTuned.map((r, i) => (i === 0 ? { ...r, imageUris: ['/tmp/x.png'] } : r)) }, /fineTuned\[0\] \(record "rec-000"\)\.imageUris must be an array of s3:\/\/ URIs/],
  ])('rejects %s', (_name, override, message) => {
    expect(() => buildEvaluationReport({ ...input, ...override })).toThrow(message);
  });
});

import { FinetuneMetric, METRICS_NAMESPACE } from '../../lambda/shared/metric-names';
import { evaluationMetrics } from '../../lambda/shared/evaluation/evaluation-metrics';
import { createLogger } from '../../lambda/shared/logger';
import { METRICS_LOG_MESSAGE, embeddedMetricFields, emitMetrics } from '../../lambda/shared/metrics-emf';
import { parseEmfLine } from '../support/emf';

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ step: 'score-evaluation' }, (l) => lines.push(l)) };
}

describe('EMF metrics helper', () => {
  test('a line CloudWatch turns into metrics: namespace, Environment dimension, units, values', () => {
    const { lines, log } = capture();
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    emitMetrics(
      log.child({ runId: 'eval-0123456789ab' }),
      [
        { name: FinetuneMetric.BASE_F1, value: 42.17, unit: 'None' },
        { name: FinetuneMetric.FINE_TUNED_F1, value: 73.2, unit: 'None' },
        { name: FinetuneMetric.RELATIVE_IMPROVEMENT, value: 73.58, unit: 'Percent' },
      ],
      'prod',
      at,
    );
    expect(lines).toHaveLength(1);
    const doc = parseEmfLine(lines[0])!;
    expect(doc).toBeDefined();
    expect(doc.timestamp).toBe(at);
    expect(doc.metrics.map((m) => [m.namespace, m.name, m.unit, m.values])).toEqual([
      [METRICS_NAMESPACE, 'BaseF1', 'None', [42.17]],
      [METRICS_NAMESPACE, 'FineTunedF1', 'None', [73.2]],
      [METRICS_NAMESPACE, 'RelativeImprovementPercent', 'Percent', [73.58]],
    ]);
    for (const m of doc.metrics) expect(m.dimensionSets).toEqual([{ Environment: 'prod' }]);
    // Still a structured log line: step, run id and message, like every other line.
    expect(doc.fields).toMatchObject({ level: 'INFO', message: METRICS_LOG_MESSAGE, step: 'score-evaluation', runId: 'eval-0123456789ab' });
    expect(METRICS_NAMESPACE).toBe('LlamaFinetune');
  });

  test('values that are not finite numbers are left out; nothing left means no line', () => {
    const { lines, log } = capture();
    emitMetrics(
      log,
      [
        { name: FinetuneMetric.BASE_F1, value: 0, unit: 'None' },
        { name: FinetuneMetric.RELATIVE_IMPROVEMENT, value: null, unit: 'Percent' },
        { name: FinetuneMetric.FINE_TUNED_F1, value: Number.NaN, unit: 'None' },
      ],
      'dev',
    );
    expect(parseEmfLine(lines[0])!.metrics.map((m) => [m.name, m.values])).toEqual([['BaseF1', [0]]]);
    emitMetrics(log, [{ name: FinetuneMetric.JOB_DURATION, value: undefined, unit: 'Seconds' }, { name: FinetuneMetric.BASE_F1, value: Infinity, unit: 'None' }], 'dev');
    expect(lines).toHaveLength(1);
  });

  test('an unset environment is the construct default; an empty one is refused', () => {
    const { lines, log } = capture();
    emitMetrics(log, [{ name: FinetuneMetric.JOB_DURATION, value: 3600, unit: 'Seconds' }], undefined);
    expect(parseEmfLine(lines[0])!.metrics[0].dimensionSets).toEqual([{ Environment: 'default' }]);
    expect(() => embeddedMetricFields([{ name: FinetuneMetric.JOB_DURATION, value: 1, unit: 'Seconds' }], '', 0)).toThrow(/ENVIRONMENT_NAME/);
  });

  test('a metric given twice, or named like a log field, is refused with the fix', () => {
    const twice = [
      { name: FinetuneMetric.BASE_F1, value: 1, unit: 'None' as const },
      { name: FinetuneMetric.BASE_F1, value: 2, unit: 'None' as const },
    ];
    expect(() => embeddedMetricFields(twice, 'dev', 1)).toThrow(/given twice.*one value per metric/);
    expect(() => embeddedMetricFields([{ name: 'runId' as never, value: 1, unit: 'None' }], 'dev', 1)).toThrow(/collides with a log field/);
  });

  test('an evaluation report gives base F1, fine-tuned F1 and the improvement; no improvement without a base score', () => {
    const scores = (base: number, fineTuned: number) => ({ base: { f1: base }, fineTuned: { f1: fineTuned } }) as never;
    expect(evaluationMetrics({ scores: scores(40, 60), relativeImprovementPercent: 50 }).map((m) => [m.name, m.value, m.unit])).toEqual([
      ['BaseF1', 40, 'None'],
      ['FineTunedF1', 60, 'None'],
      ['RelativeImprovementPercent', 50, 'Percent'],
    ]);
    const { lines, log } = capture();
    emitMetrics(log, evaluationMetrics({ scores: scores(0, 12.5), relativeImprovementPercent: null }), 'dev');
    expect(parseEmfLine(lines[0])!.metrics.map((m) => m.name)).toEqual(['BaseF1', 'FineTunedF1']);
  });
});

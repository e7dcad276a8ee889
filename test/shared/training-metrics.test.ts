import { metricsKeys, summarizeLossCsv } from '../../lambda/shared/training-metrics';

describe('training metrics CSV summary', () => {
  const csv = ['step_number,epoch_number,training_loss,perplexity', '1,1,2.0,7.4', '2,1,1.5,4.5', '3,2,1.2,3.3', '4,2,1.3,3.7', ''].join('\n');

  test('final, best and per-epoch loss', () => {
    const s = summarizeLossCsv(csv, 'training_loss')!;
    expect(s.steps).toBe(4);
    expect(s.finalLoss).toBe(1.3);
    expect(s.bestLoss).toBe(1.2);
    expect(s.bestStep).toBe(3);
    expect(s.lossPerEpoch).toEqual([
      { epoch: 1, meanLoss: 1.75, steps: 2 },
      { epoch: 2, meanLoss: 1.25, steps: 2 },
    ]);
    expect(s.curve).toEqual([[1, 2], [2, 1.5], [3, 1.2], [4, 1.3]]);
  });

  test('columns are found by name, in any order', () => {
    const s = summarizeLossCsv('perplexity,validation_loss,epoch_number,step_number\n3.0,1.1,1,10\n2.0,0.9,2,20', 'validation_loss')!;
    expect([s.finalLoss, s.bestStep]).toEqual([0.9, 20]);
  });

  test('long curves are thinned but keep the last point', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `${i + 1},1,${1 / (i + 1)},1`);
    const s = summarizeLossCsv(['step_number,epoch_number,training_loss,perplexity', ...rows].join('\n'), 'training_loss', 100)!;
    expect(s.curve.length).toBeLessThanOrEqual(101);
    expect(s.curve[s.curve.length - 1]).toEqual([1000, 1 / 1000]);
  });

  test('an empty file has no summary; a malformed row names its line', () => {
    expect(summarizeLossCsv('step_number,epoch_number,training_loss\n', 'training_loss')).toBeUndefined();
    expect(() => summarizeLossCsv('step_number,epoch_number,training_loss\n1,1,0.5\n2,1,oops', 'training_loss')).toThrow('metrics CSV line 3 is malformed: "2,1,oops"');
    expect(() => summarizeLossCsv('a,b\n1,2', 'training_loss')).toThrow(/lacks step_number, epoch_number or training_loss/);
  });

  test('Bedrock\'s output layout', () => {
    expect(metricsKeys('runs/r/bedrock-output/', 'abc')).toEqual({
      training: 'runs/r/bedrock-output/model-customization-job-abc/training_artifacts/step_wise_training_metrics.csv',
      validation: 'runs/r/bedrock-output/model-customization-job-abc/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv',
    });
  });
});

import { runThroughputAges } from '../../lambda/shared/evaluation/run-throughput-ages';
import { provisionedModelNameFor } from '../../lambda/shared/evaluation/provisioned-names';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const hoursAgo = (h: number) => new Date(NOW - h * 3_600_000);
const pt = (name: string, createdHoursAgo: number, status = 'InService') => ({
  provisionedModelName: name,
  provisionedModelArn: `arn:aws:bedrock:us-west-2:111122223333:provisioned-model/${name.replace(/[^a-z0-9]/g, '')}`,
  status,
  creationTime: hoursAgo(createdHoursAgo),
});

describe('ages of the Provisioned Throughputs runs created', () => {
  test('only names runs give count; the oldest one\'s age is reported and those past the limit are listed', () => {
    const runName = provisionedModelNameFor({ runId: 'chartqa-0123456789ab' });
    const ages = runThroughputAges(
      [pt('team-shared', 500), pt(runName, 7.5), pt('eval-young-aaaaaaaaaaaa', 1, 'Creating'), pt('my-eval-model', 900), pt('eval-failed-bbbbbbbbbbbb', 6.5, 'Failed')],
      NOW,
      6 * 3600,
    );
    expect(ages.throughputs.map((t) => t.name)).toEqual([runName, 'eval-failed-bbbbbbbbbbbb', 'eval-young-aaaaaaaaaaaa']);
    expect(ages.oldestAgeSeconds).toBeCloseTo(7.5 * 3600, 6);
    expect(ages.overAge.map((t) => [t.name, t.status])).toEqual([
      [runName, 'InService'],
      ['eval-failed-bbbbbbbbbbbb', 'Failed'],
    ]);
  });

  test('none created by runs: age 0, so the alarm has a value and stays OK', () => {
    const ages = runThroughputAges([pt('team-shared', 5000)], NOW, 3600);
    expect(ages).toEqual({ throughputs: [], oldestAgeSeconds: 0, overAge: [] });
  });

  test('exactly at the limit is not over it; a clock behind the creation time gives age 0', () => {
    const ages = runThroughputAges([pt('eval-a', 2), { ...pt('eval-b', 0), creationTime: new Date(NOW + 60_000) }], NOW, 2 * 3600);
    expect(ages.overAge).toEqual([]);
    expect(ages.throughputs.find((t) => t.name === 'eval-b')!.ageSeconds).toBe(0);
  });
});

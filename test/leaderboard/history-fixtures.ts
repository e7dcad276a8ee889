/** Entries and records of a request name's runs, for the history tests. */
import { RunHistory, RunHistoryEntry, buildRunHistory } from '../../lambda/shared/leaderboard/run-history';

/** The entry of run `i` of "chartqa": started i hours after midnight, F1 rising by 2 points a run; every fourth failed. */
export function historyEntry(i: number, overrides: Partial<RunHistoryEntry> = {}): RunHistoryEntry {
  const failed = i % 4 === 3;
  const startedAt = new Date(Date.UTC(2026, 11, 1, i)).toISOString();
  return {
    schemaVersion: 1,
    runId: `chartqa-${String(i).padStart(12, '0')}`,
    requestName: 'chartqa',
    startedAt,
    finishedAt: new Date(Date.UTC(2026, 11, 1, i, 50)).toISOString(),
    status: failed ? 'FAILED' : 'SUCCEEDED',
    model: 'llama3.2-11b',
    hyperParameters: { epochCount: 2, learningRate: 0.0001 },
    scores: failed ? null : { fineTunedF1: 60 + 2 * i, fineTunedExactMatch: 50 + i, baseF1: 50, baseExactMatch: 40, relativeImprovementPercent: ((10 + 2 * i) / 50) * 100, records: 20 },
    gate: failed ? null : { evaluated: true, passed: 60 + 2 * i >= 62 },
    error: failed ? 'ModelCustomizationJobFailed: the job failed' : null,
    reportHtmlUri: failed ? null : `s3://artifacts/runs/chartqa-${i}/evaluation/report.html`,
    ...overrides,
  };
}

/** The history of runs 0..n-1 (none failing when every run should be scored: use n <= 3 or filter). */
export function historyBoard(n: number, limit = 20): RunHistory {
  const entries = Array.from({ length: n }, (_, i) => historyEntry(i, i % 4 === 3 ? { status: 'SUCCEEDED', error: null, scores: { fineTunedF1: 60 + 2 * i, fineTunedExactMatch: 50, baseF1: 50, baseExactMatch: 40, relativeImprovementPercent: 10, records: 20 }, gate: { evaluated: false, passed: true } } : {}));
  return buildRunHistory({ requestName: 'chartqa', environment: 'dev', generatedAt: '2026-12-02T00:00:00.000Z', limit, entries });
}

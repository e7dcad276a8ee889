/**
 * `npm run demo -- --experiment` as a user runs it (a child process): the 3-variant experiment
 * runs to the end, at most 2 jobs at once, asks the base model once per test record for all
 * variants, and writes its leaderboard, ranked as the demo's stand-in models score (their
 * misses follow the variants' hyperparameters: demoMissEvery). The demo writes its copies to
 * DEMO_OUTPUT_DIR, a temporary folder here.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import type { Leaderboard } from '../../lambda/shared/leaderboard';

const ROOT = path.join(__dirname, '..', '..');
/** The demo's test records: first bars 2000..2019. */
const TEST_RECORDS = 20;

describe("the offline demo's experiment", () => {
  let dir: string;
  let run: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'demo-experiment-'));
    // As `npm run demo -- --experiment` runs it (package.json).
    run = spawnSync(process.execPath, ['-r', path.join(ROOT, 'scripts', 'esbuild-register.js'), path.join(ROOT, 'demo', 'run-demo.ts'), '--experiment'], {
      cwd: ROOT,
      env: { ...process.env, DEMO_OUTPUT_DIR: dir },
      encoding: 'utf8',
      timeout: 300_000,
    });
  }, 310_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs to the end and writes the leaderboard, ranked by the variants\' scores', () => {
    expect({ status: run.status, stderr: String(run.stderr).slice(-2000) }).toEqual({ status: 0, stderr: expect.any(String) });
    const board = JSON.parse(readFileSync(path.join(dir, 'leaderboard.json'), 'utf8')) as Leaderboard;
    // Misses: every 7th first bar (3 of 20), every 5th (4), every 3rd (7); base F1 25 (half credit on the 10 even first bars).
    expect(board.entries.map((e) => [e.rank, e.name, e.scores?.fineTunedF1])).toEqual([
      [1, 'lr-high-3-epochs', 85],
      [2, 'lr-high', 80],
      [3, 'lr-low', 65],
    ]);
    expect(board.baseline).toEqual({ f1: 25, exactMatch: 0, shared: true });
    expect(board.best?.name).toBe('lr-high-3-epochs');
    expect(board.entries.map((e) => e.hyperParameters)).toEqual([
      expect.objectContaining({ learningRate: 0.0002, epochCount: 3 }),
      expect.objectContaining({ learningRate: 0.0002, epochCount: 2 }),
      expect.objectContaining({ learningRate: 0.00005, epochCount: 2 }),
    ]);
    expect(readFileSync(path.join(dir, 'leaderboard.md'), 'utf8')).toContain('lr-high-3-epochs');
    expect(existsSync(path.join(dir, 'leaderboard.html'))).toBe(true);
  });

  it('prints the ranking, the shared baseline\'s calls, the queueing and where the files are', () => {
    const out = String(run.stdout);
    expect(out).toMatch(/#1 +lr-high-3-epochs +F1 85\.00/);
    expect(out).toMatch(/#3 +lr-low +F1 65\.00/);
    expect(out).toContain(`Model calls: ${TEST_RECORDS} to the base model (the shared baseline, once for all 3 variants), ${3 * TEST_RECORDS} to the fine-tuned models`);
    expect(out).toContain('Training jobs at once: at most 2 (maxConcurrentJobs 2)');
    expect(out).toContain('Provisioned Throughputs the experiment created still existing: 0');
    expect(out).toContain(`-> ${path.join(dir, 'leaderboard.html')}`);
  });
});

/**
 * `npm run bench`: every benchmark, each printed as a ratio against a baseline or budget
 * measured or stated in the same run. Exits 1 when a target is missed. Takes a few minutes;
 * run it on an otherwise idle machine (the numbers are shares of two CPU cores).
 */
import { BenchResult, formatBenchResults } from './bench-result';
import { runColdStartBench } from './cold-start-bench';
import { runExperimentBench } from './experiment-bench';
import { runFanOutBench } from './fanout-bench';
import { runJobTrackingBench } from './job-tracking-bench';
import { runRunCostBench } from './run-cost-bench';
import { runScoringBench } from './scoring-bench';
import { runSynthBench } from './synth-bench';
import { runValidationBench } from './validation-bench';
import { runWorkflowBench } from './workflow-bench';

const SUITES: Array<[string, () => Promise<BenchResult[]>]> = [
  ['Dataset validation', runValidationBench],
  ['Workflow monitoring and demo', runWorkflowBench],
  ['Job tracking (events + safety poll, 10-hour job)', runJobTrackingBench],
  ['Evaluation fan-out', runFanOutBench],
  ['SQuAD F1 scoring', runScoringBench],
  ['Synthesis', runSynthBench],
  ['Run costs (transitions and invocations)', runRunCostBench],
  ['Experiments (shared baseline, variants at once)', runExperimentBench],
  ['Handler cold start (load time proxy)', runColdStartBench],
];

async function main(): Promise<void> {
  const only = process.argv.slice(2).map((a) => a.toLowerCase());
  let failed = false;
  for (const [title, run] of SUITES) {
    if (only.length > 0 && !only.some((o) => title.toLowerCase().includes(o))) continue;
    process.stdout.write(`\n== ${title} ==\n`);
    const started = Date.now();
    const results = await run();
    process.stdout.write(formatBenchResults(results) + `\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    failed ||= results.some((r) => r.pass === false);
  }
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

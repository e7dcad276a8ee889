/**
 * `llama-finetune runs`: the recent runs of a deployment, read from their records in the
 * artifacts bucket (ListBucket and GetObject under the runs prefix: `grantReadResults`).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { RunRecord } from '../../lambda/shared/run-record';
import { parseArgs, UsageError } from '../command-args';
import { DEPLOYMENT_OPTION_NAMES, DEPLOYMENT_USAGE, deploymentSettings, listRunIds, mapBounded, readRun, required } from '../deployment';
import { EXIT, EXIT_CODES_LINE } from '../exit-codes';
import { runsTable } from '../run-display';
import { CommandIo, defaultCommandIo, reportAwsProblem } from '../command-io';

export const RUNS_USAGE = `llama-finetune runs [options]
  Lists the recent runs, newest first: run id, status, model, SQuAD F1 base -> fine-tuned,
  start (UTC) and duration. Reads every run record under the runs prefix.
  --limit <n>               runs shown (default 20)
  --json                    print the run records' summaries as JSON
${DEPLOYMENT_USAGE}
  ${EXIT_CODES_LINE}`;

const SPEC = { values: ['--limit', ...DEPLOYMENT_OPTION_NAMES], flags: ['--json'] };

/** Runs the command; returns the exit code. */
export async function runRuns(args: string[], io: CommandIo = defaultCommandIo()): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(RUNS_USAGE + '\n');
    return EXIT.OK;
  }
  let s3: S3Client | undefined;
  try {
    const parsed = parseArgs(args, SPEC);
    if (parsed.positional.length > 0) throw new UsageError(`runs takes no arguments; got ${parsed.positional.join(', ').slice(0, 100)}.`);
    const limitText = parsed.value('--limit');
    const limit = limitText === undefined ? 20 : Number(limitText);
    if (!/^\d+$/.test(limitText ?? '20') || limit < 1 || limit > 10_000) throw new UsageError(`--limit must be a whole number from 1 to 10000, got '${limitText}'.`);
    const settings = deploymentSettings(parsed, io.env);
    const bucket = required(settings, 'artifactsBucket');
    s3 = io.createS3Client(settings);
    const client = s3;
    const ids = await listRunIds(client, bucket, settings.runsPrefix);
    // A folder without a record yet (a run beginning this instant) is left out.
    const records = (await mapBounded(ids, 8, (id) => readRun(client, bucket, settings.runsPrefix, id))).filter((r): r is RunRecord => r !== undefined);
    records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const shown = records.slice(0, limit);
    if (parsed.flags.has('--json')) {
      io.stdout(JSON.stringify(shown.map(summaryOf), null, 2) + '\n');
    } else if (shown.length === 0) {
      io.stdout(`No runs under s3://${bucket}/${settings.runsPrefix} yet.\n`);
    } else {
      io.stdout(runsTable(shown, io.now()) + '\n');
      if (records.length > shown.length) io.stdout(`(${records.length - shown.length} older run(s) not shown; --limit ${records.length} shows all)\n`);
    }
    return EXIT.OK;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`llama-finetune runs: ${err.message}\nRun 'llama-finetune runs --help' to see every option.\n`);
      return EXIT.USAGE;
    }
    return reportAwsProblem('runs', err, io);
  } finally {
    s3?.destroy();
  }
}

function summaryOf(r: RunRecord): Record<string, unknown> {
  return {
    runId: r.runId,
    status: r.status,
    model: r.run.model.name,
    createdAt: r.createdAt,
    finishedAt: r.outcome?.finishedAt,
    baseF1: r.evaluation?.baseF1,
    fineTunedF1: r.evaluation?.fineTunedF1,
    report: r.evaluation?.reportHtmlUri,
  };
}

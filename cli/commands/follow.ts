/**
 * `llama-finetune follow <run id>`: follows a run already started (by `run --no-wait`, an
 * upload, or a `run` that stopped following) to its end. Reads its record only.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { parseArgs, secondsOption, UsageError } from '../command-args';
import { checkRunId, DEPLOYMENT_OPTION_NAMES, DEPLOYMENT_USAGE, deploymentSettings, required } from '../deployment';
import { EXIT, EXIT_CODES_LINE } from '../exit-codes';
import { followRun } from '../run-follow';
import { CommandIo, defaultCommandIo, reportAwsProblem } from '../command-io';

export const FOLLOW_USAGE = `llama-finetune follow <run id> [options]
  Follows a run to its end: step, job status and elapsed time, then the outcome, scores and
  report. Ctrl-C stops following, never the run.
  --interval <seconds>      between two reads of the run record (default 15)
  --start-timeout <seconds> how long to wait for the run record to appear (default 600)
${DEPLOYMENT_USAGE}
  ${EXIT_CODES_LINE} 1 also means the run did not succeed; 130: stopped following.`;

const SPEC = { values: ['--interval', '--start-timeout', ...DEPLOYMENT_OPTION_NAMES], flags: [] };

/** Runs the command; returns the exit code. */
export async function runFollow(args: string[], io: CommandIo = defaultCommandIo()): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(FOLLOW_USAGE + '\n');
    return EXIT.OK;
  }
  let s3: S3Client | undefined;
  try {
    const parsed = parseArgs(args, SPEC);
    if (parsed.positional.length > 1) throw new UsageError(`Follow one run at a time; got ${parsed.positional.join(', ').slice(0, 100)}.`);
    const runId = checkRunId(parsed.positional[0]);
    const settings = deploymentSettings(parsed, io.env);
    const artifactsBucket = required(settings, 'artifactsBucket');
    const intervalMs = secondsOption('--interval', parsed.value('--interval'), 15, 0.05, 3600) * 1000;
    const startTimeoutMs = secondsOption('--start-timeout', parsed.value('--start-timeout'), 600, 0.1, 86_400) * 1000;
    s3 = io.createS3Client(settings);
    return await followRun(s3, { runId }, { artifactsBucket, runsPrefix: settings.runsPrefix, intervalMs, startTimeoutMs }, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`llama-finetune follow: ${err.message}\nRun 'llama-finetune follow --help' to see every option.\n`);
      return EXIT.USAGE;
    }
    return reportAwsProblem('follow', err, io);
  } finally {
    s3?.destroy();
  }
}

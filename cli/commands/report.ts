/**
 * `llama-finetune report <run id>`: fetches a run's HTML report from the artifacts bucket to a
 * local file, prints the scores and where the file is, and opens it with --open. Reads only
 * under the runs prefix (`grantReadResults`).
 */
import { spawn } from 'child_process';
import { createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../lambda/shared/s3';
import { parseArgs, UsageError } from '../command-args';
import { checkRunId, DEPLOYMENT_OPTION_NAMES, DEPLOYMENT_USAGE, deploymentSettings, readRun, required } from '../deployment';
import { EXIT, EXIT_CODES_LINE } from '../exit-codes';
import { outcomeLines } from '../run-display';
import { CommandIo, defaultCommandIo, reportAwsProblem } from '../command-io';

export const REPORT_USAGE = `llama-finetune report <run id> [options]
  Fetches the run's HTML report, prints its scores and the file's path.
  --out <file>              where to write it (default ./<run id>-report.html)
  --open                    open it in the default browser
${DEPLOYMENT_USAGE}
  ${EXIT_CODES_LINE} 1 also means the run has no report (it ended before evaluating).`;

const SPEC = { values: ['--out', ...DEPLOYMENT_OPTION_NAMES], flags: ['--open'] };

/** Runs the command; returns the exit code. */
export async function runReport(args: string[], io: CommandIo = defaultCommandIo()): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(REPORT_USAGE + '\n');
    return EXIT.OK;
  }
  let s3: S3Client | undefined;
  try {
    const parsed = parseArgs(args, SPEC);
    if (parsed.positional.length > 1) throw new UsageError(`Give one run id; got ${parsed.positional.join(', ').slice(0, 100)}.`);
    const runId = checkRunId(parsed.positional[0]);
    const settings = deploymentSettings(parsed, io.env);
    const bucket = required(settings, 'artifactsBucket');
    const out = path.resolve(parsed.value('--out') ?? `${runId}-report.html`);
    if (isDirectory(out)) throw new UsageError(`--out '${out}' is a folder; name the file to write, e.g. ${path.join(out, `${runId}-report.html`)}.`);
    s3 = io.createS3Client(settings);
    const record = await readRun(s3, bucket, settings.runsPrefix, runId);
    if (!record) {
      io.stderr(`llama-finetune report: no run ${runId} in s3://${bucket}/${settings.runsPrefix} (llama-finetune runs lists them).\n`);
      return EXIT.DATA_ERRORS;
    }
    const evaluation = record.evaluation;
    if (!evaluation) {
      const why = record.status === 'RUNNING' ? 'it is still running (llama-finetune follow ' + runId + ')' : 'it ended before an evaluation (no test data, evaluation disabled, or it failed earlier)';
      io.stdout(outcomeLines(record, `llama-finetune report ${runId}`).join('\n') + '\n');
      io.stderr(`llama-finetune report: run ${runId} has no report: ${why}.\n`);
      return EXIT.DATA_ERRORS;
    }
    const location = parseS3Uri(evaluation.reportHtmlUri);
    // The record names where the workflow wrote; anything else is not this deployment's report to read.
    if (location.bucket !== bucket || !location.key.startsWith(`${settings.runsPrefix}${runId}/`)) {
      io.stderr(`llama-finetune report: the run record names ${evaluation.reportHtmlUri}, outside s3://${bucket}/${settings.runsPrefix}${runId}/; not fetched.\n`);
      return EXIT.DATA_ERRORS;
    }
    const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    mkdirSync(path.dirname(out), { recursive: true });
    // Written beside, then renamed: an interrupted download never leaves half a report under the name.
    const partial = `${out}.partial`;
    try {
      await pipeline(object.Body as Readable, createWriteStream(partial));
      renameSync(partial, out);
    } finally {
      rmSync(partial, { force: true });
    }
    io.stdout(outcomeLines(record, `llama-finetune report ${runId}`).filter((l) => !l.includes('fetch it with')).join('\n') + '\n');
    io.stdout(`Report saved to ${out}\n`);
    if (parsed.flags.has('--open')) openInBrowser(out, io);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`llama-finetune report: ${err.message}\nRun 'llama-finetune report --help' to see every option.\n`);
      return EXIT.USAGE;
    }
    return reportAwsProblem('report', err, io);
  } finally {
    s3?.destroy();
  }
}

/** Opens the file with the desktop's opener; says so when there is none (the path is printed already). */
function openInBrowser(file: string, io: Pick<CommandIo, 'stderr'>): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [file]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', file]] : ['xdg-open', [file]];
  try {
    const child = spawn(command as string, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => io.stderr(`Could not open it (${command} is not available); open ${file} in a browser.\n`));
    child.unref();
  } catch {
    io.stderr(`Could not open it; open ${file} in a browser.\n`);
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

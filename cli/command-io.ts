/**
 * What the run commands read and write outside themselves (the process by default; tests pass
 * their own), and how they report a failure to reach AWS: one line saying what to do, exit 3,
 * never a stack trace.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { safeText } from '../lambda/shared/display-text';
import { createS3Client, DeploymentSettings } from './deployment';
import { awsAccessProblem, EXIT, ExplainedError } from './exit-codes';
import { FollowIo } from './run-follow';

/** The outside world of a command. */
export interface CommandIo extends FollowIo {
  readonly env: NodeJS.ProcessEnv;
  readonly createS3Client: (settings: DeploymentSettings) => S3Client;
}

/** The process's streams, clock, Ctrl-C and environment. */
export function defaultCommandIo(): CommandIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTty: Boolean(process.stderr.isTTY),
    now: Date.now,
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
    env: process.env,
    createS3Client,
  };
}

/** Reports an error the command could not handle: AWS access problems in words, anything else by its message; exit 3. */
export function reportAwsProblem(command: string, err: unknown, io: Pick<CommandIo, 'stderr'>): number {
  // An error that already says what failed (e.g. which upload) keeps its words; a bare AWS error is put in words here.
  const message =
    err instanceof ExplainedError
      ? safeText(err.message, { maxChars: 2000 })
      : (awsAccessProblem(err) ?? `could not finish: ${safeText((err as Error)?.message ?? String(err), { keepLineBreaks: true, maxChars: 2000 })}`);
  io.stderr(`llama-finetune ${command}: ${message}\n`);
  return EXIT.CANNOT_CHECK;
}

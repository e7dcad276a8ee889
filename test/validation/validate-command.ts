/**
 * Runs `llama-finetune validate` in-process and captures what a terminal would show, for the
 * validate CLI tests (one file for a single dataset, one for a run's files together).
 */
import { runValidate, ValidateIo } from '../../cli/commands/validate';
import { createS3ClientForImageReads } from '../../lambda/shared/validation';

/** Exit code and output of one validate command. */
export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs validate with `args`; `io` replaces parts of the default (no TTY, S3 clients for image reads). */
export async function runValidateCommand(args: string[], io: Partial<ValidateIo> = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runValidate(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stderrIsTty: false,
    createS3Client: (concurrency) => createS3ClientForImageReads(concurrency),
    ...io,
  });
  return { code, stdout, stderr };
}

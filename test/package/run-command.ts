/**
 * Runs a command for the package test and keeps what it printed, so a failing step reports
 * its own output instead of a bare exit code.
 */
import { spawn } from 'child_process';

/** What a finished command left. */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** How to run one command. */
export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Return a non-zero exit instead of throwing (for commands expected to fail). */
  readonly allowFailure?: boolean;
}

/** Runs `command args` to completion; throws with its output when it fails, unless allowed. */
export function runCommand(command: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err) => reject(new Error(`Could not start '${command}' in ${options.cwd}: ${err.message}`)));
    child.on('close', (code, signal) => {
      const result: CommandResult = {
        exitCode: code ?? 1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        durationMs: Date.now() - started,
      };
      if (result.exitCode !== 0 && !options.allowFailure) {
        const tail = (text: string) => text.split('\n').slice(-40).join('\n');
        reject(new Error(`'${command} ${args.join(' ')}' in ${options.cwd} exited with ${signal ?? result.exitCode}.\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`));
        return;
      }
      resolve(result);
    });
  });
}

/**
 * Build step (`npm run build`, after tsc): bundles the `llama-finetune` command into one file,
 * dist/cli/llama-finetune.js, with the AWS SDK S3 client inside. The package then has no runtime
 * dependency of its own: jsii allows only jsii modules as dependencies (or bundledDependencies,
 * which would ship the SDK's whole dependency tree as node_modules in the tarball), and users
 * get a CLI that cannot break on an SDK version their app resolves.
 */
import * as fs from 'fs';
import * as path from 'path';
import { build, BuildOptions } from 'esbuild';

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const CLI_ENTRY = path.join(REPOSITORY_ROOT, 'cli', 'llama-finetune.ts');
const CLI_OUT_DIR = path.join(REPOSITORY_ROOT, 'dist', 'cli');
const CLI_OUT = path.join(CLI_OUT_DIR, 'llama-finetune.js');

/**
 * The esbuild options of the CLI bundle, written to `outfile`: the build's, and the CLI binary
 * test's (test/cli/cli-binary.test.ts), which bundles the same entry into a folder of its own.
 */
export function cliBundleOptions(outfile: string): BuildOptions {
  return {
    entryPoints: [CLI_ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    // The package's `engines` floor.
    target: 'node20',
    format: 'cjs',
    // The CLI never needs the CDK; if a future import pulls it in, it resolves from the user's app.
    external: ['aws-cdk-lib', 'constructs'],
    logLevel: 'warning',
  };
}

/** Bundles the CLI into `outfile` and makes it executable (the `bin` npm links). */
export async function bundleCli(outfile: string): Promise<void> {
  await build(cliBundleOptions(outfile));
  fs.chmodSync(outfile, 0o755);
}

async function main(): Promise<void> {
  // Nothing else belongs in dist/cli: the bundle is the CLI's one file.
  fs.rmSync(CLI_OUT_DIR, { recursive: true, force: true });
  const started = Date.now();
  await bundleCli(CLI_OUT);
  process.stdout.write(`Bundled the CLI into ${path.relative(REPOSITORY_ROOT, CLI_OUT)} in ${Date.now() - started} ms (${Math.round(fs.statSync(CLI_OUT).size / 1024)} KiB)\n`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bundle-cli: ${err.message}\n`);
    process.exit(1);
  });
}

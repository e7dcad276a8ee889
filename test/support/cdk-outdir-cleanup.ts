/**
 * Set up after the test framework in each test file of both projects (jest.config.js): the
 * cloud assemblies that the file's CDK apps write are deleted once the file is done.
 *
 * An `App` given no `outdir` synthesizes into a fresh `cdk.outXXXXXX` folder under the system's
 * temporary folder, and nothing removed it: about 1 MB (template, metadata, tree, assets) for
 * each synthesis; one machine's /tmp held 5,523 of them, 5 GB, after a day of test runs. aws-cdk-lib makes that folder with `fs.mkdtempSync(<tmpdir>/cdk.out)`; this file notes
 * each folder made that way while its test file runs, and removes those (and only those) after
 * its last test. Folders another jest worker is writing at that moment are not this file's, so
 * they are left alone; a test's own `outdir` is the test's to remove.
 */
// The module object itself (an `import * as` binding is a read-only copy of it).
import fs = require('fs');
import * as path from 'path';

const CDK_DEFAULT_OUTDIR_PREFIX = 'cdk.out';

const assembliesMadeHere: string[] = [];
const mkdtempSync = fs.mkdtempSync;

// Core modules are shared by every test file a jest worker runs: patched here, restored below.
fs.mkdtempSync = function mkdtempSyncNotingAssemblies(
  prefix: string,
  options?: fs.EncodingOption,
): string {
  const made = mkdtempSync.call(fs, prefix, options) as string;
  if (path.basename(prefix) === CDK_DEFAULT_OUTDIR_PREFIX) {
    assembliesMadeHere.push(made);
  }
  return made;
} as typeof fs.mkdtempSync;

afterAll(() => {
  fs.mkdtempSync = mkdtempSync;
  for (const folder of assembliesMadeHere.splice(0)) {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

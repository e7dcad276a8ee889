/**
 * The suite's own hygiene (test/support/cdk-outdir-cleanup.ts): a test file's apps that
 * synthesize with no `outdir` leave no cloud assembly in the temporary folder once the file is
 * done, and nothing else there is touched. Proven by running jest on a fixture test file with
 * that setup, in a child process whose temporary folder is a fresh one.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
let scratch: string;
beforeAll(() => (scratch = mkdtempSync(path.join(tmpdir(), 'outdir-cleanup-'))));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("a test file's default cloud assemblies are deleted after its last test; its other temporary folders are not", () => {
  const childTmp = path.join(scratch, 'tmp');
  mkdirSync(childTmp);
  const report = path.join(scratch, 'seen-during-the-test.json');
  writeFileSync(
    path.join(scratch, 'fixture.test.js'),
    `const fs = require('fs');
const os = require('os');
const path = require('path');
const { App, Stack, CfnOutput } = require(${JSON.stringify(require.resolve('aws-cdk-lib'))});
test('synthesizes twice into default output folders and makes a folder of its own', () => {
  const first = new App();
  new CfnOutput(new Stack(first, 'One'), 'Out', { value: 'one' });
  const second = new App();
  new CfnOutput(new Stack(second, 'Two'), 'Out', { value: 'two' });
  const assemblies = [first.synth().directory, second.synth().directory];
  const own = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-'));
  fs.writeFileSync(${JSON.stringify(report)}, JSON.stringify({ assemblies, own, listed: fs.readdirSync(os.tmpdir()).sort() }));
});
`,
  );
  const config = {
    rootDir: scratch,
    testMatch: ['<rootDir>/fixture.test.js'],
    cacheDirectory: path.join(scratch, 'jest-cache'),
    transform: { '^.+\\.tsx?$': path.join(ROOT, 'scripts/jest-esbuild-transform.js') },
    setupFilesAfterEnv: [path.join(ROOT, 'test/support/cdk-outdir-cleanup.ts')],
  };
  const result = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--ci', '--config', JSON.stringify(config)], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, TMPDIR: childTmp },
    timeout: 110_000,
  });
  expect(result.stderr).toContain('1 passed');
  expect(result.status).toBe(0);

  const seen = JSON.parse(readFileSync(report, 'utf8')) as { assemblies: string[]; own: string; listed: string[] };
  const assemblyNames = seen.assemblies.map((folder) => path.basename(folder));
  // While the test ran: two assemblies, each in a folder of its own, and the test's folder.
  expect(assemblyNames).toHaveLength(2);
  expect(new Set(assemblyNames).size).toBe(2);
  for (const name of assemblyNames) expect(name).toMatch(/^cdk\.out/);
  expect(seen.listed).toEqual(expect.arrayContaining([...assemblyNames, path.basename(seen.own)]));
  // After the file: the assemblies are gone, the test's own folder is still there.
  expect(readdirSync(childTmp).sort()).toEqual([path.basename(seen.own)]);
});

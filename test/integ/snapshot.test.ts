/**
 * CI's part of the integration tests: integ-runner's snapshot comparison, which synthesizes
 * every test/integ/integ.*.ts app offline and compares its stacks with the committed
 * test/integ/*.snapshot/ folders, deploying nothing (`npm run integ:snapshot`). Skipped, with
 * the reason, when the installed integ-runner cannot read the installed aws-cdk-lib's cloud
 * assemblies at all (see support/integ-runner-compatibility.ts).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { installedSchemaVersions, integRunnerIncompatibility, schemaRevisionInBundle } from './support/integ-runner-compatibility';

const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');
/** The apps integ-runner finds (its TypeScript pattern). */
const INTEG_APPS = fs.readdirSync(__dirname).filter((name) => /^integ\.(?!.*\.d\.ts$).*\.ts$/.test(name));
const incompatibility = integRunnerIncompatibility(installedSchemaVersions());
if (incompatibility) {
  // Jest lists a skipped test by name only; say why where the run's output shows it.
  console.warn(`integ-runner snapshot check skipped: ${incompatibility}`);
}

describe('integ-runner snapshot comparison (npm run integ:snapshot)', () => {
  (incompatibility ? test.skip : test)(
    incompatibility ? `skipped: ${incompatibility}` : 'every integration test app matches its committed snapshot',
    () => {
      const run = spawnSync('npm', ['run', '--silent', 'integ:snapshot'], { cwd: REPOSITORY_ROOT, encoding: 'utf8' });
      const output = `${run.stdout}\n${run.stderr}`;
      expect({ status: run.status, output }).toEqual({ status: 0, output: expect.stringContaining('Snapshot Results') });
      // Every app was found and compared (a run that finds no test also exits 0).
      expect(INTEG_APPS.length).toBeGreaterThan(0);
      expect(output).toMatch(new RegExp(`Tests:\\s+${INTEG_APPS.length} passed, ${INTEG_APPS.length} total`));
    },
    600_000,
  );
});

describe('the compatibility check behind the skip', () => {
  const bundle = (revision: number) =>
    `// ../cloud-assembly-schema/schema/version.json\nvar require_version = __commonJS({\n  "../cloud-assembly-schema/schema/version.json"(exports2, module2) {\n    module2.exports = {\n      schemaHash: "abc",\n      revision: ${revision}\n    };\n  }\n});`;

  test('reads the schema revision an integ-runner bundle inlines', () => {
    expect(schemaRevisionInBundle(bundle(53))).toBe(53);
    expect(schemaRevisionInBundle('no schema here')).toBeUndefined();
  });

  test('skips only when integ-runner certainly reads an older schema major than aws-cdk-lib writes', () => {
    const versions = { integRunner: '9.9.9', cdkLibWrites: '55.0.0', cliNeeded: '2.1148.2' };
    expect(integRunnerIncompatibility({ ...versions, integRunnerReads: 53 })).toMatch(/reads cloud assemblies up to schema 53\.x\.x, but aws-cdk-lib writes 55\.0\.0.*2\.1148\.2/);
    expect(integRunnerIncompatibility({ ...versions, integRunnerReads: 55 })).toBeUndefined();
    expect(integRunnerIncompatibility({ ...versions, integRunnerReads: 56 })).toBeUndefined();
    // Unknown: run the check and let integ-runner's own error speak.
    expect(integRunnerIncompatibility({ ...versions, integRunnerReads: undefined })).toBeUndefined();
  });
});

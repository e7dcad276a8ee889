/**
 * CI's part of the integration tests: integ-runner's snapshot comparison, which synthesizes
 * every test/integ/integ.*.ts app offline and compares its stacks with the committed
 * test/integ/*.snapshot/ folders, deploying nothing (`npm run integ:snapshot`). A template
 * change fails it until the snapshots are refreshed (`npm run integ:snapshot:update`) and the
 * diff is reviewed and committed with the change.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { installedSchemaVersions, integRunnerIncompatibility, schemaRevisionInBundle } from './support/integ-runner-compatibility';

const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');
/** The apps integ-runner finds (its TypeScript pattern). */
const INTEG_APPS = fs.readdirSync(__dirname).filter((name) => /^integ\.(?!.*\.d\.ts$).*\.ts$/.test(name));

describe('integ-runner snapshot comparison (npm run integ:snapshot) [slow: about a minute]', () => {
  test('the installed integ-runner reads the cloud assemblies the installed aws-cdk-lib writes', () => {
    const versions = installedSchemaVersions();
    expect(versions.integRunnerReads).toBeDefined();
    // On failure Jest prints the explanation and what to do.
    expect(integRunnerIncompatibility(versions)).toBeUndefined();
  });

  test('every integration test app has a committed snapshot with its stacks', () => {
    expect(INTEG_APPS.length).toBeGreaterThan(0);
    for (const app of INTEG_APPS) {
      const snapshot = path.join(__dirname, `${app}.snapshot`);
      const manifest = JSON.parse(fs.readFileSync(path.join(snapshot, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string }> };
      const stacks = Object.entries(manifest.artifacts).filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack');
      // The stack under test and integ-tests-alpha's assertion stack.
      expect({ app, stacks: stacks.length }).toEqual({ app, stacks: 2 });
      for (const [name] of stacks) expect(fs.existsSync(path.join(snapshot, `${name}.template.json`))).toBe(true);
    }
  });

  test(
    'every integration test app matches its committed snapshot',
    () => {
      const run = spawnSync('npm', ['run', '--silent', 'integ:snapshot'], { cwd: REPOSITORY_ROOT, encoding: 'utf8' });
      const output = `${run.stdout}\n${run.stderr}`;
      expect({ status: run.status, output }).toEqual({ status: 0, output: expect.stringContaining('Snapshot Results') });
      // Every app was found and compared (a run that finds no test also exits 0).
      expect(output).toMatch(new RegExp(`Tests:\\s+${INTEG_APPS.length} passed, ${INTEG_APPS.length} total`));
      for (const app of INTEG_APPS) expect(output).toMatch(new RegExp(`UNCHANGED\\s+${app.replace(/\.ts$/, '').replace(/\./g, '\\.')}\\b`));
    },
    600_000,
  );
});

describe('the compatibility check', () => {
  const bundle = (revision: number) =>
    `// ../cloud-assembly-schema/schema/version.json\nvar require_version = __commonJS({\n  "../cloud-assembly-schema/schema/version.json"(exports2, module2) {\n    module2.exports = {\n      schemaHash: "abc",\n      revision: ${revision}\n    };\n  }\n});`;

  test('reads the schema revision an integ-runner bundle inlines', () => {
    expect(schemaRevisionInBundle(bundle(53))).toBe(53);
    expect(schemaRevisionInBundle('no schema here')).toBeUndefined();
  });

  test('objects only when integ-runner certainly reads an older schema major than aws-cdk-lib writes, and says what to do', () => {
    const versions = { integRunner: '9.9.9', cdkLibWrites: '55.0.0', cliNeeded: '2.1148.2' };
    expect(integRunnerIncompatibility({ ...versions, integRunnerReads: 53 })).toMatch(
      /reads cloud assemblies up to schema 53\.x\.x, but aws-cdk-lib writes 55\.0\.0.*2\.1148\.2.*Keep the aws-cdk-lib devDependency/,
    );
    expect(integRunnerIncompatibility({ ...versions, integRunnerReads: 55 })).toBeUndefined();
    expect(integRunnerIncompatibility({ ...versions, integRunnerReads: 56 })).toBeUndefined();
    // Unknown: run the comparison and let integ-runner's own error speak.
    expect(integRunnerIncompatibility({ ...versions, integRunnerReads: undefined })).toBeUndefined();
  });
});

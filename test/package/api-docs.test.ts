/**
 * API.md is the API reference jsii-docgen generates from the jsii assembly (`npm run docs`), so it
 * documents what every language gets. This fails when API.md is stale: after a change of the
 * public API, run `npx jsii && npm run docs` and commit API.md.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readAssemblyText } from '../support/jsii-assembly';

const REPOSITORY = path.resolve(__dirname, '..', '..');

describe('API.md', () => {
  it('is what `npm run docs` (jsii-docgen) makes of the current assembly', () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llama-finetune-api-docs-'));
    try {
      // The same command as package.json's "docs" script, on a copy of the project's assembly and
      // manifest (a build elsewhere in the suite may rewrite .jsii meanwhile), writing elsewhere.
      const project = path.join(outDir, 'project');
      fs.mkdirSync(project);
      fs.writeFileSync(path.join(project, '.jsii'), readAssemblyText());
      fs.copyFileSync(path.join(REPOSITORY, 'package.json'), path.join(project, 'package.json'));
      fs.symlinkSync(path.join(REPOSITORY, 'node_modules'), path.join(project, 'node_modules'), 'dir');
      const docgen = path.join(path.dirname(require.resolve('jsii-docgen/package.json')), 'bin', 'jsii-docgen');
      execFileSync(process.execPath, [docgen, '-o', path.join(outDir, 'API.md')], { cwd: project, stdio: 'pipe' });
      const generated = fs.readFileSync(path.join(outDir, 'API.md'), 'utf8');
      expect(generated).toContain('# API Reference');
      const committed = fs.existsSync(path.join(REPOSITORY, 'API.md')) ? fs.readFileSync(path.join(REPOSITORY, 'API.md'), 'utf8') : '(API.md does not exist)';
      const [committedLines, generatedLines] = [committed.split('\n'), generated.split('\n')];
      const firstDifference = committedLines.findIndex((line, i) => line !== generatedLines[i]);
      const verdict = committed === generated ? 'API.md is current' : `API.md is stale from line ${(firstDifference < 0 ? committedLines.length : firstDifference) + 1}: run \`npx jsii && npm run docs\``;
      expect(verdict).toBe('API.md is current');
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  }, 180_000);
});

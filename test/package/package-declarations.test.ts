import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isCurrentDeclaration } from '../support/package-build';

/**
 * The README snippet test compiles against the declarations of the last jsii compile in dist/.
 * Only those the package build would ship count: a declaration whose source was deleted since
 * stays in a developer's dist/ (jsii does not remove it), and must not make a snippet compile.
 */
describe('the declarations a consumer test installs', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'package-declarations-'));
    for (const file of ['lib/index.ts', 'lib/workflow/kept.ts', 'dist/lib/index.d.ts', 'dist/lib/index.js', 'dist/lib/workflow/kept.d.ts', 'dist/lib/workflow/deleted.d.ts']) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), '');
    }
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const current = (file: string) => isCurrentDeclaration(path.join(root, 'dist'), path.join(root, file), root);

  it('are the .d.ts files whose TypeScript source exists', () => {
    expect(current('dist/lib/index.d.ts')).toBe(true);
    expect(current('dist/lib/workflow/kept.d.ts')).toBe(true);
  });

  it('leave out a declaration left over from a deleted source, and anything that is not a declaration', () => {
    expect(current('dist/lib/workflow/deleted.d.ts')).toBe(false);
    expect(current('dist/lib/index.js')).toBe(false);
  });
});

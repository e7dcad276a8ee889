/**
 * Every TypeScript snippet of README.md compiles against the built package, imported by its name
 * ('llama-finetune-cdk') as a user's app imports it: the package's declarations are built with
 * its own build config and installed into a throw-away consumer folder (test/support/package-build.ts),
 * so a README example that names something the package no longer exports, or calls it the old way,
 * fails here with the README line.
 *
 * Complete snippets (```ts) compile as they stand. Fragments that use things from around them
 * (a stack, the LlamaFinetuning construct, roles) are marked ```ts fixture=NAME, as jsii-rosetta
 * marks them, and compile inside rosetta/NAME.ts-fixture (see test/readme/readme-snippets.ts).
 * Compiler options: those of a `cdk init app --language typescript` project (strict, NodeNext).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { CONSUMER_TSCONFIG } from '../package/consumer-app-files';
import { InstalledDeclarations, installPackageDeclarations, MANIFEST } from '../support/package-build';
import { ComposedSnippet, composeSnippet, describeDiagnostic, README, ReadmeSnippet, typeScriptSnippets } from './readme-snippets';

const SNIPPETS = typeScriptSnippets(fs.readFileSync(README, 'utf8'));

/**
 * A markdown text with known mistakes, compiled with the README's snippets: proves that errors are
 * caught and reported at their markdown line, in complete snippets and in fragments alike.
 */
const PROBE_MARKDOWN = [
  '# probe', //                                                                       1
  '```ts', //                                                                         2
  `import { LlamaFinetuning } from '${MANIFEST.name}';`, //                           3
  "const count: number = 'three';", //                                               4: TS2322
  'export const used: [number, typeof LlamaFinetuning] = [count, LlamaFinetuning];', //  5
  '```', //                                                                           6
  '```ts fixture=probe', //                                                           7
  "import { Duration } from 'aws-cdk-lib';", //                                       8: hoisted above the fixture
  'const interval: Duration = Duration.minutes(probeMinutes);', //                    9
  'interval.notAMember();', //                                                       10: TS2339, column 10
  '```', //                                                                          11
  '```typescript', //                                                                12
  `import { LlamaFinetuningStack } from '${MANIFEST.name}';`, //                      13: TS2724, the app's stack is not exported
  'export { LlamaFinetuningStack };', //                                             14
  '```', //                                                                          15
].join('\n');
const PROBE_FIXTURE = ['declare const probeMinutes: number;', '/// here', ''].join('\n');

interface Compiled {
  readonly composed: ComposedSnippet;
  readonly fileName: string;
  readonly problems: string[];
}

describe('README.md TypeScript snippets [builds the package declarations: about half a minute]', () => {
  let installed: InstalledDeclarations;
  let program: ts.Program;
  const compiled = new Map<ReadmeSnippet, Compiled>();
  const probes: Compiled[] = [];

  beforeAll(() => {
    installed = installPackageDeclarations('llama-finetune-readme-');
    const snippetDir = path.join(installed.consumerDir, 'snippets');
    const probeFixtures = path.join(installed.consumerDir, 'probe-fixtures');
    fs.mkdirSync(snippetDir);
    fs.mkdirSync(probeFixtures);
    fs.writeFileSync(path.join(probeFixtures, 'probe.ts-fixture'), PROBE_FIXTURE);

    const files = new Map<string, { composed: ComposedSnippet; snippet?: ReadmeSnippet }>();
    for (const snippet of SNIPPETS) {
      const fileName = path.join(snippetDir, `readme-line-${snippet.fenceLine}.ts`);
      const composed = composeSnippet(snippet);
      fs.writeFileSync(fileName, composed.text);
      files.set(fileName, { composed, snippet });
    }
    for (const snippet of typeScriptSnippets(PROBE_MARKDOWN, 'probe.md')) {
      const fileName = path.join(snippetDir, `probe-line-${snippet.fenceLine}.ts`);
      const composed = composeSnippet(snippet, 'probe.md', probeFixtures);
      fs.writeFileSync(fileName, composed.text);
      files.set(fileName, { composed });
    }

    const { options, errors } = ts.convertCompilerOptionsFromJson({ ...CONSUMER_TSCONFIG.compilerOptions, noEmit: true }, installed.consumerDir);
    if (errors.length > 0) throw new Error(errors.map((error) => describeDiagnostic(error)).join('\n'));
    program = ts.createProgram([...files.keys()], options);
    const diagnostics = ts.getPreEmitDiagnostics(program);
    for (const [fileName, { composed, snippet }] of files) {
      const problems = diagnostics.filter((diagnostic) => diagnostic.file?.fileName === fileName).map((diagnostic) => describeDiagnostic(diagnostic, composed));
      const result = { composed, fileName, problems };
      if (snippet) compiled.set(snippet, result);
      else probes.push(result);
    }
    // Problems outside any snippet (options, a fixture's own mistakes) fail every snippet.
    const elsewhere = diagnostics.filter((diagnostic) => !diagnostic.file || !files.has(diagnostic.file.fileName));
    if (elsewhere.length > 0) throw new Error(`Compiling the README snippets failed outside them:\n${elsewhere.map((diagnostic) => describeDiagnostic(diagnostic)).join('\n')}`);
  }, 600_000);

  afterAll(() => installed?.remove());

  it('finds the README snippets', () => {
    expect(SNIPPETS.length).toBeGreaterThanOrEqual(2);
  });

  it.each(SNIPPETS.map((snippet) => [snippet.fenceLine, snippet.fixture ? `fixture=${snippet.fixture}` : 'complete', snippet] as const))(
    'README.md line %i (%s) compiles against the built package',
    (_line, _kind, snippet) => {
      expect(compiled.get(snippet)?.problems).toEqual([]);
    },
  );

  it("resolves the package's name to its built declarations, not to the sources", () => {
    const complete = [...compiled.values()].find(({ composed }) => composed.text.includes(`from '${MANIFEST.name}'`));
    expect(complete).toBeDefined();
    const resolved = ts.resolveModuleName(MANIFEST.name, complete!.fileName, program.getCompilerOptions(), ts.sys).resolvedModule;
    expect(resolved?.resolvedFileName).toBe(path.join(fs.realpathSync(installed.packageDir), 'dist', 'lib', 'index.d.ts'));
  });

  it('reports a mistake at its markdown line: in a complete snippet, in a fragment with hoisted imports, and for a name the package does not export', () => {
    expect(probes.map(({ problems }) => problems)).toEqual([
      ["probe.md:4:7 TS2322 Type 'string' is not assignable to type 'number'."],
      ["probe.md:10:10 TS2339 Property 'notAMember' does not exist on type 'Duration'."],
      [`probe.md:13:10 TS2724 '"${MANIFEST.name}"' has no exported member named 'LlamaFinetuningStack'. Did you mean 'LlamaFinetuning'?`],
    ]);
  });

  it('refuses a code block attribute other than fixture, so a misspelt marker cannot pass unnoticed', () => {
    expect(() => typeScriptSnippets('text\n```ts fixtures=stack\nconst a = 1;\n```\n', 'probe.md')).toThrow("probe.md:2: unknown code block attribute 'fixtures'");
    expect(() => composeSnippet(typeScriptSnippets('```ts fixture=nowhere\nconst a = 1;\n```\n', 'probe.md')[0], 'probe.md')).toThrow('probe.md:1: fixture=nowhere names rosetta/nowhere.ts-fixture, which does not exist');
  });
});

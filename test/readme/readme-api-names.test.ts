/**
 * Every name of the package's API that README.md mentions is in the jsii assembly (`.jsii`), so
 * it exists for Python, Java, .NET and Go users too: a free function or a constant that jsii
 * drops, an `@internal` or unexported type, a renamed member all fail here, with the README line.
 * Which names count is defined in test/readme/readme-api-names.ts (snippets resolved by the
 * TypeScript checker; in prose, `finetuning.…` chains, bare calls, grant/metric/on names, and the
 * names of types declared under lib/). Each checked name is its own test below, so the list of
 * what is checked is the test run's output.
 *
 * The assembly is the one `npx jsii` wrote (npm test compiles it before jest); an assembly older
 * than a file under lib/ or lambda/shared/ fails, naming the file, rather than checking stale names.
 */
import * as fs from 'fs';
import { readAssemblyText } from '../support/jsii-assembly';
import { MANIFEST } from '../support/package-build';
import { ApiMention, JsiiAssembly, mentionKey, missingFromAssembly, readmeApiMentions } from './readme-api-names';
import { README } from './readme-snippets';

const MENTIONS = readmeApiMentions(fs.readFileSync(README, 'utf8'), MANIFEST.name);

describe('README.md names of the API are in the jsii assembly', () => {
  let assembly: JsiiAssembly;

  beforeAll(() => {
    // Fails, naming the file, when lib/ or lambda/shared/ changed after the compile.
    assembly = JSON.parse(readAssemblyText()) as JsiiAssembly;
  });

  it('finds the names README uses in its snippets and prose', () => {
    const keys = MENTIONS.map(mentionKey);
    // The construct, a props key, a grant in a snippet, a member reached through a prose chain, a construct named in prose.
    expect(keys).toEqual(expect.arrayContaining(['LlamaFinetuning', 'LlamaFinetuning.grantStartRuns', 'LlamaFinetuning.workflow', 'FinetuningStorage']));
    expect(keys.some((key) => /^[A-Z]\w*Props\.\w+$/.test(key))).toBe(true);
    // Not the package's: aws-cdk-lib members, stack outputs, states, the stand-ins' helpers.
    for (const foreign of ['Duration.minutes', 'DatasetBucketName', 'WaitForJobEnd', '*.throttle()', 'Bucket.fromBucketName', 'RemovalPolicy.DESTROY']) expect(keys).not.toContain(foreign);
  });

  it('reports what an assembly lacks: a type, a member, a method no type has', () => {
    const partial: JsiiAssembly = {
      name: MANIFEST.name,
      types: { [`${MANIFEST.name}.LlamaFinetuning`]: { name: 'LlamaFinetuning', kind: 'class', methods: [{ name: 'grantStartRuns' }] } } as JsiiAssembly['types'],
    };
    const probe = (mention: ApiMention) => missingFromAssembly(partial, mention);
    expect(probe({ type: 'LlamaFinetuning', member: 'grantStartRuns', where: 'x' })).toBeUndefined();
    expect(probe({ member: 'grantStartRuns', anyType: true, where: 'x' })).toBeUndefined();
    expect(probe({ type: 'LlamaFinetuning', member: 'grantStopRuns', where: 'x' })).toBe(`${MANIFEST.name}.LlamaFinetuning has no member 'grantStopRuns'`);
    expect(probe({ type: 'FinetuningStorage', where: 'x' })).toBe(`${MANIFEST.name} has no type 'FinetuningStorage'`);
    expect(probe({ member: 'acknowledgeFinding', anyType: true, where: 'x' })).toMatch(/no type of .* has a method 'acknowledgeFinding' \(a free function is dropped by jsii/);
  });

  it.each(MENTIONS.map((mention) => [mentionKey(mention), mention.where, mention] as const))('%s (%s) is in the assembly', (_key, where, mention) => {
    const missing = missingFromAssembly(assembly, mention);
    expect(missing && `${where}: ${missing}`).toBeUndefined();
  });
});

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeFinding, acknowledgeWildcardAction, acknowledgeWildcardResource } from '../../lib/core/nag';
import { buildApp } from '../../bin/app';
import { testStack } from '../support/cdk';
import { readCdkJsonContext } from '../support/cdk-json';

/**
 * The acknowledgement helpers against the installed aws-cdk-lib and cdk-nag: a finding on an
 * ARN built with ${AWS::Partition} has two `::` in its id, which aws-cdk-lib 2.257 refuses in
 * `Validations.acknowledge`; cdk-nag must still see it acknowledged, and only it.
 */
describe('cdk-nag acknowledgements (lib/core/nag.ts)', () => {
  function roleWithWildcards(stack: Stack): { role: iam.Role; modelArns: string } {
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const modelArns = stack.formatArn({ service: 'bedrock', resource: 'custom-model', resourceName: '*' });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['bedrock:GetCustomModel'], resources: [modelArns] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject*'], resources: ['arn:aws:s3:::bucket/key'] }));
    return { role, modelArns };
  }
  const iam5Findings = (stack: Stack) =>
    new AwsSolutionsChecks(stack)
      .validateScope(stack)
      .violations.map((violation) => violation.ruleName)
      .filter((rule) => rule.startsWith('AwsSolutions-IAM5'))
      .sort();

  test('without acknowledgements cdk-nag reports both wildcard findings, the resource one with two "::"', () => {
    const stack = testStack();
    roleWithWildcards(stack);
    const findings = iam5Findings(stack);
    expect(findings).toEqual(['AwsSolutions-IAM5[Action::s3:GetObject*]', expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:bedrock:us-west-2:\d+:custom-model\/\*\]$/)]);
    expect(findings[1].split('::').length).toBe(3);
  });

  test('each helper acknowledges exactly its finding, with the reason recorded', () => {
    const stack = testStack();
    const { role, modelArns } = roleWithWildcards(stack);
    acknowledgeWildcardResource(role, modelArns, 'Custom model names are chosen per run; the account and region are fixed.');
    expect(iam5Findings(stack)).toEqual(['AwsSolutions-IAM5[Action::s3:GetObject*]']);
    acknowledgeWildcardAction(role, 's3:GetObject*', 'GetObject* covers the object versions and tags reads of one fixed key.');
    expect(iam5Findings(stack)).toEqual([]);

    const recorded = Object.assign({}, ...role.node.metadata.filter((entry) => entry.type === 'aws:cdk:acknowledged-rules').map((entry) => entry.data));
    expect(Object.values(recorded)).toEqual(expect.arrayContaining([expect.stringContaining('Custom model names'), expect.stringContaining('GetObject*')]));
  });

  test('an acknowledgement on another construct does not cover the finding', () => {
    const stack = testStack();
    const { modelArns } = roleWithWildcards(stack);
    const other = new iam.Role(stack, 'Other', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    acknowledgeWildcardResource(other, modelArns, 'Acknowledged on the wrong role, so the finding must remain.');
    expect(iam5Findings(stack)).toHaveLength(2);
  });

  test('an id aws-cdk-lib refuses for another reason still fails', () => {
    const stack = testStack();
    expect(() => acknowledgeFinding(stack, '::AwsSolutions-IAM5', 'A malformed id with an empty prefix must not be recorded.')).toThrow(/validation rule ID/i);
  });

  test('a clean synth of the app leaves no error file (the CLI\'s cdk.out/error.txt)', () => {
    // The CLI sets CDK_ERROR_FILE to <outdir>/error.txt; aws-cdk-lib writes the code of every
    // error it constructs there, even one that is caught. A synth that succeeds must leave none.
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'llama-finetune-synth-'));
    const errorFile = path.join(outdir, 'error.txt');
    const saved = process.env.CDK_ERROR_FILE;
    process.env.CDK_ERROR_FILE = errorFile;
    try {
      const assembly = buildApp(new App({ outdir, context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [] } })).synth();
      expect(assembly.stacks.length).toBeGreaterThanOrEqual(2);
      expect(fs.existsSync(errorFile) ? fs.readFileSync(errorFile, 'utf-8') : 'no error file').toBe('no error file');
    } finally {
      if (saved === undefined) delete process.env.CDK_ERROR_FILE;
      else process.env.CDK_ERROR_FILE = saved;
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

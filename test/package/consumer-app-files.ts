/**
 * The files of the throw-away consumer CDK app: a team's existing stack with its own bucket,
 * into which it composes LlamaFinetuning from the installed package. Kept as text because
 * the app imports the package by name, which only resolves inside the consumer folder.
 */

/** Name of the consumer's stack (and of its template in cdk.out). */
export const CONSUMER_STACK = 'ConsumerStack';

/** Construct path of the consumer's own bucket's CloudFormation resource. */
export const CONSUMER_BUCKET_PATH = `${CONSUMER_STACK}/TeamDatasets/Resource`;

/** Name of the consumer's application stack, which reads the model registry. */
export const CONSUMER_APPLICATION_STACK = 'ConsumerApplicationStack';

/** Prefix of the export names the consumer asks for. */
export const CONSUMER_EXPORT_PREFIX = 'consumer-finetuning-';

/** app.ts: TypeScript as a CDK user writes it, type-checked against the package's .d.ts files. */
export function consumerAppSource(packageName: string): string {
  return `import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LlamaFinetuning, LlamaFinetuningProps } from '${packageName}';

const app = new App();
const stack = new Stack(app, '${CONSUMER_STACK}', { env: { account: '123456789012', region: 'us-west-2' } });

// The team's bucket, there before the library arrived.
const teamDatasets = new s3.Bucket(stack, 'TeamDatasets', { enforceSSL: true, versioned: true });

const props: LlamaFinetuningProps = {
  storage: { datasetBucket: teamDatasets },
  environmentName: 'consumer',
  defaultModel: 'llama3.2-1b',
};
const finetuning = new LlamaFinetuning(stack, 'Finetuning', props);
// The bucket names, prefixes, ARNs and upload command as stack outputs, exported for other stacks.
finetuning.addOutputs({ exportPrefix: '${CONSUMER_EXPORT_PREFIX}' });

// An application in another stack of the app reads the current model of 'chart-qa'.
const application = new Stack(app, '${CONSUMER_APPLICATION_STACK}', { env: { account: '123456789012', region: 'us-west-2' } });
const applicationRole = new iam.Role(application, 'ApplicationRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
finetuning.grantReadModelRegistry(applicationRole);
application.templateOptions.metadata = { currentModelParameter: finetuning.modelRegistryParameterName('chart-qa') };

app.synth();
`;
}

/** tsconfig.json of a current \`cdk init app --language typescript\` project, trimmed to what app.ts needs. */
export const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    // The consumer installs no @types/node; aws-cdk-lib's own declarations mention Node types.
    skipLibCheck: true,
    types: [],
  },
  files: ['app.ts'],
};

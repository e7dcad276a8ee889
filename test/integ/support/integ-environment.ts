/**
 * Where the integration test apps deploy, and whether they may. integ-runner synthesizes
 * every snapshot with the variable CDK_INTEG_ACCOUNT set (to a placeholder; offline, no
 * credentials), and synthesizes for a deployment without it, when the CDK CLI sets
 * CDK_DEFAULT_ACCOUNT from the caller's credentials. Pure functions of the environment
 * variables, so they are unit-tested.
 */
import { Environment } from 'aws-cdk-lib';
import { CUSTOMIZATION_REGIONS } from '../../../lambda/shared/models/llama-models';

/** Environment variables the apps read. */
export type IntegVariables = Readonly<Record<string, string | undefined>>;

/**
 * The region every test stack uses: Llama 3.2 customization is offered only there, so the
 * region is fixed (not the placeholder) and snapshots stay identical on every machine.
 */
export const INTEG_REGION = CUSTOMIZATION_REGIONS[0];

/**
 * The account of snapshot syntheses. Not integ-runner's own placeholder (12345678): aws-cdk-lib
 * warns that an 8-digit account is no AWS account, and snapshots should synthesize cleanly.
 */
export const SNAPSHOT_ACCOUNT = '123456789012';

/** Set to `1` to let integ.real-finetuning.ts deploy; anything else refuses. */
export const REAL_JOB_OPT_IN_VARIABLE = 'LLAMA_FINETUNE_INTEG_REAL_JOB';

/** True while integ-runner synthesizes a snapshot (it then sets CDK_INTEG_ACCOUNT). */
export function isSnapshotSynthesis(variables: IntegVariables = process.env): boolean {
  return variables.CDK_INTEG_ACCOUNT !== undefined && variables.CDK_INTEG_ACCOUNT !== '';
}

/**
 * Account and region of the test stacks: {@link SNAPSHOT_ACCOUNT} for snapshots (the same on
 * every machine), the caller's account (from the CDK CLI) for deployments; always
 * {@link INTEG_REGION}.
 */
export function integEnvironment(variables: IntegVariables = process.env): Environment {
  const account = isSnapshotSynthesis(variables) ? SNAPSHOT_ACCOUNT : variables.CDK_DEFAULT_ACCOUNT || undefined;
  return { account, region: INTEG_REGION };
}

/**
 * Refuses to synthesize the paid test for a deployment unless the caller opted in: a
 * snapshot synthesis (no deployment) is always allowed. Throws an error that says what the
 * test costs and how to opt in.
 */
export function requireRealJobOptIn(testFile: string, variables: IntegVariables = process.env): void {
  if (isSnapshotSynthesis(variables) || variables[REAL_JOB_OPT_IN_VARIABLE] === '1') return;
  throw new Error(
    `${testFile} runs a real Amazon Bedrock fine-tuning job, which costs money (training tokens, a little Step Functions, Lambda and S3), ` +
      `and takes one to several hours. Nothing was deployed. To run it on purpose: ` +
      `${REAL_JOB_OPT_IN_VARIABLE}=1 npx integ-runner --force ${testFile.replace(/^.*\//, '')}`,
  );
}

/**
 * Launches the Bedrock model customization job of a run.
 *
 * Input: { run, hyperParameters } (the values chosen after validation). Bedrock trains on the
 * run's copies of the validated files (pinned-data.ts), not on the keys the request named.
 * Output: the job
 * ({ jobArn, jobName, customModelName, status, outputS3Uri, hyperParameters }).
 *
 * The clientRequestToken comes from the request object's identity, so a retried launch or a
 * duplicated trigger gets the same job back instead of a second one. Bedrock's errors are
 * rethrown with their own names (ThrottlingException, ServiceQuotaExceededException,
 * ValidationException, ...), which the state machine's Retry and Catch rules act on.
 *
 * If the run has already ended when the job is recorded (the cleanup of a timed-out or aborted
 * execution ran while the job was being created, and may have looked before it existed), the
 * job is stopped at once and the step fails with RunEnded: nobody is left to watch it train.
 */
import { CreateModelCustomizationJobCommand, CreateModelCustomizationJobCommandInput, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { resolveHyperParameters, resolveModel, toBedrockHyperParameters } from '../shared/models/llama-models';
import { bedrockClient, s3Client } from '../shared/aws-clients';
import { jsonEnv, requireEnv } from '../shared/env';
import { clientRequestTokenFor, customModelNameFor, jobNameFor, jobTagsFor } from '../shared/job-names';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { pinnedDataUri } from '../shared/pinned-data';
import { RunContext } from '../shared/run-context';
import { RunEndedError } from '../shared/run-ended-error';
import { RunJob, updateOwnRunRecord, withEvent } from '../shared/run-record';

export interface LaunchJobEvent {
  readonly run: RunContext;
  /** Hyperparameters chosen for the job (the validation step's recommendation with explicit values kept). */
  readonly hyperParameters?: Record<string, number>;
}

const log = createLogger({ step: 'launch-job' });

/** The entry point: launchJob, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, launchJob);

async function launchJob(event: LaunchJobEvent): Promise<RunJob> {
  const { run } = event;
  const runLog = log.child({ runId: run.runId });
  const model = resolveModel(run.model.baseModelIdentifier);
  // Checked again here: the values may come from the recommendation, and Bedrock would
  // reject out-of-range values only after the job was queued.
  const hyperParameters = toBedrockHyperParameters(resolveHyperParameters(model, event.hyperParameters ?? run.hyperParameters));
  const outputS3Uri = `s3://${run.artifacts.bucket}/${run.artifacts.prefix}bedrock-output/`;
  const vpc = jsonEnv<{ subnetIds: string[]; securityGroupIds: string[] } | undefined>('VPC_CONFIG', undefined);
  const input: CreateModelCustomizationJobCommandInput = {
    jobName: jobNameFor(run),
    customModelName: customModelNameFor(run),
    roleArn: requireEnv('CUSTOMIZATION_ROLE_ARN'),
    clientRequestToken: clientRequestTokenFor(run.request, run.experiment),
    baseModelIdentifier: model.baseModelIdentifier,
    customizationType: 'FINE_TUNING',
    // The run's copies of the validated files, never the user's keys, which may have changed since.
    trainingDataConfig: { s3Uri: pinnedDataUri(run, 'training') },
    validationDataConfig: run.data.validationKey ? { validators: [{ s3Uri: pinnedDataUri(run, 'validation') }] } : undefined,
    outputDataConfig: { s3Uri: outputS3Uri },
    hyperParameters,
    customModelKmsKeyId: process.env.CUSTOM_MODEL_KMS_KEY_ARN || undefined,
    vpcConfig: vpc,
    // The deployment tag lets this deployment's retention sweep find its own models, and only those.
    jobTags: jobTagsFor(run, requireEnv('ENVIRONMENT_NAME'), process.env.DEPLOYMENT_ID || undefined),
    customModelTags: jobTagsFor(run, requireEnv('ENVIRONMENT_NAME'), process.env.DEPLOYMENT_ID || undefined),
  };
  let jobArn: string;
  try {
    const out = await bedrockClient().send(new CreateModelCustomizationJobCommand(input));
    jobArn = out.jobArn!;
  } catch (err) {
    const name = (err as Error).name;
    runLog.warn('Bedrock refused the job', { error: err });
    if (name === 'ServiceQuotaExceededException') {
      // The state machine waits and tries again; the record shows why the run is waiting.
      await updateOwnRunRecord(s3Client(), run, (r) =>
        withEvent(r, 'waiting for job quota', { message: (err as Error).message }),
      );
    }
    throw err;
  }
  const job: RunJob = {
    jobArn,
    jobName: input.jobName!,
    customModelName: input.customModelName!,
    status: 'InProgress',
    outputS3Uri,
    hyperParameters,
  };
  const recorded = await updateOwnRunRecord(s3Client(), run, (r) => ({ ...withEvent(r, 'job created', { jobArn }), job }));
  runLog.info('customization job created', { jobArn, jobName: job.jobName, hyperParameters });
  if (recorded.status !== 'RUNNING') {
    await stopJobOfEndedRun(run, job, recorded.status);
    throw new RunEndedError(run.runId, recorded.status, `its customization job ${jobArn} was created; the job has been stopped`);
  }
  return job;
}

/** Stops the job of a run that ended meanwhile and notes it in the record. */
async function stopJobOfEndedRun(run: RunContext, job: RunJob, runStatus: string): Promise<void> {
  const runLog = log.child({ runId: run.runId });
  try {
    await bedrockClient().send(new StopModelCustomizationJobCommand({ jobIdentifier: job.jobArn }));
  } catch (err) {
    // ConflictException / ValidationException: no longer InProgress (the cleanup stopped it first).
    const name = (err as Error).name;
    if (name !== 'ConflictException' && name !== 'ValidationException') throw err;
    runLog.info('the job of the ended run was no longer training', { jobArn: job.jobArn, error: err });
  }
  await updateOwnRunRecord(s3Client(), run, (r) => ({
    ...withEvent(r, 'job stopped: the run had ended', { jobArn: job.jobArn, runStatus }),
    job: r.job?.jobArn === job.jobArn ? { ...r.job, status: 'Stopping' } : r.job,
  }));
  runLog.warn('stopped the customization job of a run that had already ended', { jobArn: job.jobArn, runStatus });
}

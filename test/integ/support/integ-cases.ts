/**
 * What each integration test deploys and uploads, in one place: the integ apps use it, and
 * the offline rehearsal (integ-rehearsal.test.ts) runs the very same props and files through
 * the synthesized workflow with the real handlers, so a deployment holds no surprise.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LlamaFinetuningProps } from '../../../lib';
import { DATASET_LIMITS } from '../../../lambda/shared/models/llama-models';
import { RunUpload } from './run-assertions';
import { tinyRunRequest, tinyTextDataset } from './tiny-text-dataset';

/** An integration test's LlamaFinetuning props and upload (the bucket is known at deploy time). */
export interface IntegCase {
  readonly props: LlamaFinetuningProps;
  readonly upload: Omit<RunUpload, 'bucketName'>;
}

/** Props both tests share: evaluation off (no Provisioned Throughput), everything removed on destroy. */
const SHARED_PROPS: LlamaFinetuningProps = {
  environmentName: 'integ',
  removalPolicy: RemovalPolicy.DESTROY,
  logRetention: logs.RetentionDays.ONE_WEEK,
  evaluation: { enabled: false },
};

function upload(name: string, records: number): IntegCase['upload'] {
  const trainingKey = `datasets/${name}/train.jsonl`;
  return {
    trainingKey,
    trainingJsonl: tinyTextDataset(records),
    requestKey: `requests/${name}.json`,
    requestJson: tinyRunRequest({ name, model: 'llama3.2-1b', trainingData: trainingKey, epochCount: 1 }),
  };
}

/** integ.validation-failure.ts: 5 records, fewer than Bedrock's minimum, so validation fails. */
export const VALIDATION_FAILURE_CASE: IntegCase = {
  props: SHARED_PROPS,
  upload: upload('integ-too-few', 5),
};

/** Longest the paid test's run may take; its wait condition gives up a little later. */
export const REAL_RUN_TIMEOUT = Duration.hours(8);

/** integ.real-finetuning.ts: the fewest records Bedrock accepts, one epoch of the smallest model. */
export const REAL_FINETUNING_CASE: IntegCase = {
  props: {
    ...SHARED_PROPS,
    // A short job: check often; a busy quota: give up within the hour instead of six.
    pollInterval: Duration.minutes(2),
    quotaWaitTimeout: Duration.hours(1),
    executionTimeout: REAL_RUN_TIMEOUT,
  },
  upload: upload('integ-real-finetune', DATASET_LIMITS.minRecords),
};

/** The base model the paid test expects its custom model to come from (a pattern of the ARN). */
export const REAL_FINETUNING_BASE_MODEL_PATTERN = 'llama3-2-1b-instruct';

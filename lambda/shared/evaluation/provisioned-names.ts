/**
 * The Provisioned Throughput a run creates is named after the run, so that it can be found
 * (and deleted) from the run id alone, even if the record of its ARN was never written.
 */
import { RunContext } from '../run-context';

/** Bedrock: provisionedModelName 1-63, [a-zA-Z0-9](-*[a-zA-Z0-9])* */
export const PROVISIONED_MODEL_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;

/** `eval-<run id>` cleaned to Bedrock's pattern and length. */
export function provisionedModelNameFor(run: Pick<RunContext, 'runId'>): string {
  const name = `eval-${run.runId}`.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 63).replace(/-+$/, '');
  if (!PROVISIONED_MODEL_NAME_PATTERN.test(name)) throw new Error(`Cannot derive a valid Provisioned Throughput name from run id '${run.runId}'`);
  return name;
}

/** Start of the name of every Provisioned Throughput a run creates (see provisionedModelNameFor). */
export const RUN_PROVISIONED_MODEL_NAME_PREFIX = 'eval-';

/** Whether a Provisioned Throughput's name is one a run gives (and so one a run must delete). */
export function isRunProvisionedModelName(name: string): boolean {
  return name.startsWith(RUN_PROVISIONED_MODEL_NAME_PREFIX);
}

/**
 * The run id a run's Provisioned Throughput name was made from (the inverse of
 * provisionedModelNameFor): run ids are letters, digits and hyphens of at most 53 characters,
 * so `eval-<run id>` is never cleaned or cut. Undefined for a name no run gives.
 */
export function runIdOfProvisionedModelName(name: string): string | undefined {
  if (!isRunProvisionedModelName(name)) return undefined;
  const runId = name.slice(RUN_PROVISIONED_MODEL_NAME_PREFIX.length);
  return runId !== '' && provisionedModelNameFor({ runId }) === name ? runId : undefined;
}

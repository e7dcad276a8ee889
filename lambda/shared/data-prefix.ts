/**
 * The data prefix: where in the dataset bucket a deployment's run requests may name data
 * (training, validation and test files, and images), so teams sharing one bucket cannot
 * train on, or read back through a report, each other's files. Pure checks; no AWS calls.
 */
import { RunRequestProblem } from './run-request';

/**
 * The problems of data keys outside the prefix (none when there is no prefix): each names
 * the field, the key, the prefix and the fix.
 */
export function dataPrefixProblems(dataPrefix: string | undefined, bucket: string, keys: ReadonlyArray<readonly [field: string, key: string | undefined]>): RunRequestProblem[] {
  if (!dataPrefix) return [];
  return keys
    .filter(([, key]) => key !== undefined && !key.startsWith(dataPrefix))
    .map(([field, key]) => ({
      field,
      rule: 'data-prefix',
      message: `s3://${bucket}/${key} is outside this deployment's data prefix '${dataPrefix}' (its requests may name only data under s3://${bucket}/${dataPrefix}); move the file under that prefix and name the new key`,
    }));
}

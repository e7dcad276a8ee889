/**
 * Where the task tokens of runs waiting for their customization job are kept, in the artifacts
 * bucket: outside the runs prefix on purpose, since grantReadResults gives readers the runs
 * prefix and a token must stay with the workflow (whoever holds it could resume the run).
 * Shared by the construct (grants) and the handlers (keys). Pure.
 */
export const JOB_WAITS_PREFIX = 'job-waits/';

/** Bedrock's event source and detail-type of job state changes (Bedrock User Guide, "How EventBridge for Amazon Bedrock works"). */
export const JOB_STATE_CHANGE_SOURCE = 'aws.bedrock';
export const JOB_STATE_CHANGE_DETAIL_TYPE = 'Model Customization Job State Change';

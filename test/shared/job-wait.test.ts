import { isStaleTokenError, jobEndOf, jobWaitKey, parseJobWaitRecord } from '../../lambda/shared/job-wait';

const JOB_ARN = 'arn:aws:bedrock:us-west-2:111122223333:model-customization-job/meta.llama3-2-1b-instruct-v1:0:128k/a1b2c3d4e5f6';
const event = (detail: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  version: '0',
  source: 'aws.bedrock',
  'detail-type': 'Model Customization Job State Change',
  time: '2026-12-04T09:00:00Z',
  detail: { version: '0.0', jobArn: JOB_ARN, jobName: 'run-1', ...detail },
  ...extra,
});

describe('job waits (pure)', () => {
  test('the token key comes from the job id Bedrock assigned, under job-waits/', () => {
    expect(jobWaitKey(JOB_ARN)).toBe('job-waits/a1b2c3d4e5f6.json');
    expect(() => jobWaitKey('runs/../x')).toThrow(/not a Bedrock model customization job ARN/);
    expect(() => jobWaitKey('arn:aws:bedrock:us-west-2:111122223333:model-customization-job/../../runs/x')).toThrow();
  });

  test("Bedrock's ended-job events are read; others are ignored with the reason", () => {
    for (const jobStatus of ['Completed', 'Failed', 'Stopped']) expect(jobEndOf(event({ jobStatus }))).toEqual({ jobArn: JOB_ARN, jobStatus, time: '2026-12-04T09:00:00Z' });
    expect(jobEndOf(event({ jobStatus: 'InProgress' }))).toEqual({ ignored: expect.stringContaining('not ended') });
    expect(jobEndOf(event({ jobStatus: 'Completed' }, { source: 'custom.app' }))).toEqual({ ignored: expect.stringContaining('not a Model Customization Job State Change event') });
    expect(jobEndOf(event({ jobStatus: 'Completed', jobArn: 'my-job' }))).toEqual({ ignored: expect.stringContaining('not a customization job ARN') });
    expect(jobEndOf(null)).toEqual({ ignored: 'not an event object' });
  });

  test('a stored record is read only when well formed', () => {
    expect(parseJobWaitRecord(JSON.stringify({ jobArn: JOB_ARN, taskToken: 'AQtoken', executionArn: 'e', runId: 'r', registeredAt: 't' }))).toEqual({ jobArn: JOB_ARN, taskToken: 'AQtoken', executionArn: 'e', runId: 'r', registeredAt: 't' });
    expect(parseJobWaitRecord('{')).toBeUndefined();
    expect(parseJobWaitRecord(JSON.stringify({ jobArn: JOB_ARN }))).toBeUndefined();
  });

  test("Step Functions' answers for a wait that is over are stale, others are not", () => {
    for (const name of ['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']) expect(isStaleTokenError(Object.assign(new Error('x'), { name }))).toBe(true);
    expect(isStaleTokenError(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).toBe(false);
    expect(isStaleTokenError(undefined)).toBe(false);
  });
});

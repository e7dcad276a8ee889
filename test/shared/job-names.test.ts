import { CUSTOM_MODEL_NAME_PATTERN, JOB_NAME_PATTERN, clientRequestTokenFor, customModelNameFor, jobIdOf, jobNameFor, jobTagsFor, taggedFromRequestsUnder } from '../../lambda/shared/job-names';
import { RunContext } from '../../lambda/shared/run-context';

const run = (runId: string, key = 'requests/r.json') => ({ runId, request: { bucket: 'b', key, versionId: 'v1' } }) as unknown as RunContext;

describe('Bedrock job names', () => {
  test.each(['chartqa-11b-0123456789ab', 'a--b---c-0123456789ab', 'x-0123456789ab', `${'n'.repeat(40)}-0123456789ab`])('%s gives names Bedrock accepts', (runId) => {
    const jobName = jobNameFor(run(runId));
    const modelName = customModelNameFor(run(runId));
    expect(jobName).toMatch(JOB_NAME_PATTERN);
    expect(modelName).toMatch(CUSTOM_MODEL_NAME_PATTERN);
    expect(jobName.length).toBeLessThanOrEqual(63);
    expect(modelName.length).toBeLessThanOrEqual(63);
  });

  test('repeated hyphens are collapsed only where Bedrock forbids them', () => {
    expect(jobNameFor(run('a--b-0123'))).toBe('a--b-0123');
    expect(customModelNameFor(run('a--b-0123'))).toBe('a-b-0123');
  });

  test('the idempotency token is stable per request version and differs across versions', () => {
    const a = clientRequestTokenFor({ bucket: 'b', key: 'k', versionId: '1' });
    expect(clientRequestTokenFor({ bucket: 'b', key: 'k', versionId: '1' })).toBe(a);
    expect(clientRequestTokenFor({ bucket: 'b', key: 'k', versionId: '2' })).not.toBe(a);
    expect(clientRequestTokenFor({ bucket: 'b', key: 'k', etag: 'e' })).not.toBe(clientRequestTokenFor({ bucket: 'b', key: 'k', etag: 'f' }));
    // The variants of one upload each get their own token (Bedrock refuses a token reused for another job), stable per variant.
    const variant = (name: string) => ({ kind: 'variant' as const, experimentRunId: 'x-0123456789ab', variantName: name, variantIndex: 0 });
    const source = { bucket: 'b', key: 'k', versionId: '1' };
    expect(clientRequestTokenFor(source, variant('a'))).not.toBe(clientRequestTokenFor(source, variant('b')));
    expect(clientRequestTokenFor(source, variant('a'))).not.toBe(a);
    expect(clientRequestTokenFor(source, variant('a'))).toBe(clientRequestTokenFor(source, variant('a')));
    expect(clientRequestTokenFor(source, variant('a'))).toMatch(/^[a-f0-9]{64}$/);
    expect(a).toMatch(/^[a-f0-9]{64}$/);
  });

  test('tags carry run id, environment and request, cleaned to Bedrock\'s tag alphabet', () => {
    const tags = jobTagsFor(run('r-1', 'requests/my#run(1).json'), 'prod');
    expect(tags).toEqual([
      { key: 'llama-finetune:run-id', value: 'r-1' },
      { key: 'llama-finetune:environment', value: 'prod' },
      { key: 'llama-finetune:request', value: 's3://b/requests/my_run_1_.json' },
    ]);
  });

  test('the job id is the last ARN segment', () => {
    expect(jobIdOf('arn:aws:bedrock:us-west-2:111122223333:model-customization-job/meta.llama3-2-11b-instruct-v1:0:128k/abc123def456')).toBe('abc123def456');
  });
});

describe('which deployment a tagged resource belongs to', () => {
  test('the request tag a run writes lies under its own bucket and request prefix, and no other', () => {
    const tags = jobTagsFor(run('r-0123', 'requests/team a/run (1).json'), 'prod');
    expect(taggedFromRequestsUnder(tags, 's3://b/requests/')).toBe(true);
    expect(taggedFromRequestsUnder(tags, 's3://b/requests/team a/')).toBe(true);
    expect(taggedFromRequestsUnder(tags, 's3://b/other/')).toBe(false);
    expect(taggedFromRequestsUnder(tags, 's3://b2/requests/')).toBe(false);
    // A bucket whose name starts like ours is another bucket.
    expect(taggedFromRequestsUnder(jobTagsFor({ ...run('r-0123'), request: { bucket: 'b-other', key: 'requests/r.json' } } as unknown as RunContext, 'prod'), 's3://b/')).toBe(false);
  });

  test('a prefix with characters Bedrock tags cannot hold is compared as cleaned', () => {
    const tags = jobTagsFor(run('r-0123', 'requests/équipe/r.json'), 'prod');
    expect(taggedFromRequestsUnder(tags, 's3://b/requests/équipe/')).toBe(true);
  });

  test('no request tag, or only other tags: not ours', () => {
    expect(taggedFromRequestsUnder([], 's3://b/requests/')).toBe(false);
    expect(taggedFromRequestsUnder([{ key: 'llama-finetune:run-id', value: 's3://b/requests/x' }], 's3://b/requests/')).toBe(false);
  });
});

import { startHarness, waitFor, WorkflowHarness, arithmeticRecords } from './harness';

/**
 * The training workflow end to end, offline: the synthesized state machine, the real handlers,
 * LocalS3 and LocalBedrock over loopback. Each scenario checks the execution's end, the run
 * record, the jobs Bedrock holds and the notification.
 */
describe('training workflow (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  const request = (name: string, extra: Record<string, unknown> = {}) => ({ name, model: 'llama3.2-1b', trainingData: 'data/train.jsonl', validationData: 'data/validation.jsonl', ...extra });
  const jobsNamed = (prefix: string) => h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith(prefix));
  const messagesAbout = (runId: string) => h.aws.sns.messages(h.topicArn).filter((m) => m.message.includes(runId) || (m.subject ?? '').includes(runId));
  const outcomeEvents = (runId: string) => h.aws.events.events({ source: 'llama-finetune', detailType: 'Fine-tuning Run Finished' }).filter((e) => (e.detail as { runId?: string }).runId === runId);

  beforeAll(async () => {
    h = await startHarness();
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'data/validation.jsonl', arithmeticRecords(20, 500));
  });
  afterAll(async () => h?.stop());
  afterEach(() => {
    h.aws.bedrock.clearFaults();
    h.aws.bedrock.scenario.job = {};
  });

  test('a valid request trains one job and records it, with metrics, a message and an event', async () => {
    const { executions } = await h.upload('requests/happy.json', request('happy', { hyperParameters: { epochCount: 2 } }));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).toEqual(expect.arrayContaining(['ReadRunRequest', 'BeginRun', 'ValidateDataset', 'LaunchJob', 'WaitForJobEnd', 'CheckJob', 'RecordSuccess', 'RunSucceeded']));

    const [job] = jobsNamed('happy-');
    expect(jobsNamed('happy-')).toHaveLength(1);
    expect(job.status).toBe('Completed');
    expect(job.baseModelIdentifier).toBe('meta.llama3-2-1b-instruct-v1:0:128k');
    expect(job.hyperParameters).toEqual({ epochCount: '2', batchSize: '1', learningRate: '0.0001' });
    // Bedrock reads the run's copies of the validated files, not the keys the request named.
    expect(job.trainingDataUri).toBe(`s3://${h.artifacts}/runs/${job.jobName}/data/training.jsonl`);
    expect(job.validationDataUris).toEqual([`s3://${h.artifacts}/runs/${job.jobName}/data/validation.jsonl`]);
    expect(job.outputDataUri).toBe(`s3://${h.artifacts}/runs/${job.jobName}/bedrock-output/`);
    // Tags were sent (their content is unit-tested in job-names.test.ts).
    expect(h.aws.callLog.count({ action: 'bedrock:TagResource' })).toBeGreaterThan(0);

    const record = h.runRecord(job.jobName)!;
    expect(record.status).toBe('SUCCEEDED');
    expect(record.job).toMatchObject({ jobArn: job.jobArn, status: 'Completed', outputModelArn: expect.stringContaining(':custom-model/') });
    expect(record.metrics?.training?.steps).toBeGreaterThan(0);
    expect(record.metrics?.training?.lossPerEpoch.map((e) => e.epoch)).toEqual([1, 2]);
    expect(record.metrics?.validation?.finalLoss).toEqual(expect.any(Number));
    expect(record.timeline.map((t) => t.event)).toEqual(['run started', 'dataset valid', 'job created', 'job Completed', 'run succeeded']);
    expect(record.validation).toEqual({ valid: true, errorCount: 0, warningCount: expect.any(Number), reportUri: `s3://${h.artifacts}/runs/${record.runId}/validation/report.json` });
    expect(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/validation/report.json`)).toBeDefined();
    // run.json says which exact objects were validated and where the run's copies are.
    const source = (key: string) => h.aws.s3.headObject(h.datasets, key)!;
    expect(record.data).toEqual({
      training: { sourceUri: `s3://${h.datasets}/data/train.jsonl`, versionId: source('data/train.jsonl').versionId, etag: source('data/train.jsonl').etag, size: source('data/train.jsonl').size, copyUri: job.trainingDataUri },
      validation: { sourceUri: `s3://${h.datasets}/data/validation.jsonl`, versionId: source('data/validation.jsonl').versionId, etag: source('data/validation.jsonl').etag, size: source('data/validation.jsonl').size, copyUri: job.validationDataUris[0] },
    });

    const [message] = messagesAbout(record.runId);
    expect(message.subject).toBe(`[test] Llama fine-tuning run ${record.runId} succeeded`);
    expect(message.message).toContain(`Custom model: ${record.job!.outputModelArn}`);
    expect(message.attributes.outcome).toMatchObject({ stringValue: 'SUCCEEDED' });
    expect(outcomeEvents(record.runId)).toEqual([
      expect.objectContaining({ detailType: 'Fine-tuning Run Finished', detail: expect.objectContaining({ outcome: 'SUCCEEDED', jobArn: job.jobArn, qualityGate: 'NOT_EVALUATED' }) }),
    ]);
  });

  test('throttling bursts on every Bedrock call are retried; still exactly one job', async () => {
    h.aws.bedrock.throttleNext(4, { operation: 'CreateModelCustomizationJob' });
    h.aws.bedrock.throttleNext(4, { operation: 'GetModelCustomizationJob' });
    const { executions } = await h.upload('requests/throttled.json', request('throttled'));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(jobsNamed('throttled-')).toHaveLength(1);
    const throttled = h.aws.callLog.entries({ service: 'bedrock', errorCode: 'ThrottlingException' } as never);
    expect(throttled.length).toBeGreaterThanOrEqual(8);
    expect(h.runRecord(jobsNamed('throttled-')[0].jobName)!.status).toBe('SUCCEEDED');
  });

  test('a quota that clears after a while: the run waits, then trains', async () => {
    h.aws.bedrock.quotaExceeded({ times: 2 });
    const { executions } = await h.upload('requests/quota-clears.json', request('quota-clears'));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.events.filter((e) => e.type === 'StateRetried' && e.state === 'LaunchJob').length).toBeGreaterThanOrEqual(2);
    const record = h.runRecord(jobsNamed('quota-clears-')[0].jobName)!;
    expect(record.timeline.filter((t) => t.event === 'waiting for job quota')).toHaveLength(2);
    expect(jobsNamed('quota-clears-')).toHaveLength(1);
  });

  test('a quota that never clears fails the run with what to do, and creates no job', async () => {
    h.aws.bedrock.quotaExceeded({ times: 'forever' });
    const { executions } = await h.upload('requests/quota-stuck.json', request('quota-stuck'));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('QuotaExceeded');
    expect(outcome.cause).toMatch(/stayed exceeded for 40 minutes \(4 attempts\)\. Wait for running jobs to finish or ask for a higher quota/);
    expect(jobsNamed('quota-stuck-')).toHaveLength(0);
    const record = h.runRecords().find((r) => r.run.requestName === 'quota-stuck')!;
    expect(record.outcome).toMatchObject({ status: 'FAILED', error: 'QuotaExceeded' });
    expect(messagesAbout(record.runId)[0].message).toContain('ask for a higher quota');
  });

  test('a job that fails ends the run with Bedrock\'s failure message', async () => {
    h.aws.bedrock.setJobScenario({ outcome: 'Failed', failureMessage: 'Training data line 37 is not valid JSON.' });
    const { executions } = await h.upload('requests/job-fails.json', request('job-fails'));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('JobFailed');
    expect(outcome.cause).toContain('ended Failed: Training data line 37 is not valid JSON.');
    const [job] = jobsNamed('job-fails-');
    expect(job.status).toBe('Failed');
    const record = h.runRecord(job.jobName)!;
    expect(record.job?.status).toBe('Failed');
    expect(record.outcome?.cause).toContain('Training data line 37');
    expect(outcomeEvents(record.runId)[0].detail).toMatchObject({ outcome: 'FAILED', error: 'JobFailed' });
  });

  test('the same upload delivered twice starts exactly one job and keeps the first run\'s record', async () => {
    h.aws.s3.putObject(h.datasets, 'requests/twice.json', JSON.stringify(request('twice')));
    const first = await h.runner.putS3ObjectCreated(h.datasets, 'requests/twice.json');
    const second = await h.runner.sendEvent(first.event);
    const [a, b] = await Promise.all([first.executions[0].result, second.executions[0].result]);
    const statuses = [a, b].map((o) => o.transitions[o.transitions.length - 1]).sort();
    expect(statuses).toEqual(['DuplicateRequest', 'RunSucceeded']);
    expect(jobsNamed('twice-')).toHaveLength(1);
    const record = h.runRecord(jobsNamed('twice-')[0].jobName)!;
    const winner = [a, b].find((o) => o.transitions.includes('RunSucceeded'))!;
    expect(record.executionArn).toBe(winner.executionArn);
    expect(messagesAbout(record.runId)).toHaveLength(1);
  });

  test('a changed request uploaded again starts a second job', async () => {
    const first = await (await h.upload('requests/changed.json', request('changed'))).executions[0].result;
    const second = await (await h.upload('requests/changed.json', request('changed', { hyperParameters: { epochCount: 1 } }))).executions[0].result;
    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const jobs = jobsNamed('changed-');
    expect(jobs).toHaveLength(2);
    expect(new Set(jobs.map((j) => j.jobName)).size).toBe(2);
    // The first request set no epochCount: the data-driven recommendation (6 epochs for 120
    // records) applies; the second request's explicit value wins.
    expect(jobs.map((j) => j.hyperParameters.epochCount).sort()).toEqual(['1', '6']);
  });

  test('a request naming a missing file fails before anything is created', async () => {
    const { executions } = await h.upload('requests/missing-file.json', request('missing-file', { testData: 'data/absent.jsonl' }));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('InvalidRunRequest');
    expect(outcome.cause).toContain(`s3://${h.datasets}/data/absent.jsonl does not exist`);
    expect(jobsNamed('missing-file-')).toHaveLength(0);
    expect(h.runRecords().find((r) => r.run.requestName === 'missing-file')).toBeUndefined();
    const message = h.aws.sns.messages(h.topicArn).find((m) => m.message.includes('requests/missing-file.json'))!;
    expect(message.message).toContain('Error: InvalidRunRequest');
    expect(message.message).toContain('[data-missing]');
  });

  test('an invalid dataset stops the run before any job, with the validation summary', async () => {
    h.aws.s3.putObject(h.datasets, 'data/bad.jsonl', arithmeticRecords(99) + '\n{"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}');
    const { executions } = await h.upload('requests/bad-data.json', request('bad-data', { trainingData: 'data/bad.jsonl', validationData: undefined }));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('InvalidDataset');
    expect(outcome.cause).toMatch(/line 100/);
    expect(jobsNamed('bad-data-')).toHaveLength(0);
    const record = h.runRecords().find((r) => r.run.requestName === 'bad-data')!;
    expect(record.job).toBeUndefined();
    expect(record.outcome?.error).toBe('InvalidDataset');
    expect(record.validation).toMatchObject({ valid: false, errorCount: 1 });
    expect(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/validation/report.json`)).toBeDefined();
    // The user's data is untouched.
    expect(h.aws.s3.versionsOf(h.datasets, 'data/bad.jsonl')).toHaveLength(1);
  });

  test('an execution aborted while training: the cleanup rule stops the job and records the abort', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
    const { executions } = await h.upload('requests/aborted.json', request('aborted'));
    const execution = executions[0];
    // Abort once the job is training.
    await waitFor('the job to start training', () => jobsNamed('aborted-').length > 0);
    const [job] = jobsNamed('aborted-');
    expect(job.status).toBe('InProgress');
    execution.abort();
    const outcome = await execution.result;
    expect(outcome.status).toBe('ABORTED');
    await h.runner.idle();
    const cleanup = outcome.ruleDeliveries.find((d) => (d.event.detail as { status: string }).status === 'ABORTED')!;
    expect(cleanup.invocation?.error).toBeUndefined();
    expect(cleanup.invocation?.payload).toMatchObject({ jobStopped: true, outcomeRecorded: true });
    expect(['Stopping', 'Stopped']).toContain(h.aws.bedrock.job(job.jobArn)!.status);
    const record = h.runRecord(job.jobName)!;
    expect(record.status).toBe('ABORTED');
    expect(record.timeline.map((t) => t.event)).toContain('job stopped by cleanup');
    expect(messagesAbout(record.runId)[0].subject).toContain('was aborted');
  });

  test('every AWS call of these runs was allowed by the calling function\'s synthesized role', () => {
    const { denied, unused } = h.runner.checkIam();
    expect(denied).toEqual([]);
    // Granted actions no call used are reported, not failed: ListBucket only matters for a 404,
    // and some grants serve paths these scenarios do not take.
    const report = unused.filter((u) => u.actions.length > 0).map((u) => `${u.role}: ${u.actions.join(', ')}`);
    process.stdout.write(`IAM grants unused by the training scenarios:\n  ${report.join('\n  ') || '(none)'}\n`);
    // Each grant these scenarios leave unused is used on a path they do not take; a new unused
    // grant fails here until it is either used or explained.
    const explained: Record<string, string> = {
      's3:ListBucket': 'turns a missing object into 404 instead of 403',
      'bedrock:DeleteProvisionedModelThroughput': 'training-only runs create no Provisioned Throughput',
      'bedrock:StopModelCustomizationJob': 'a launch stops its job only when the run ended meanwhile',
      's3:DeleteObject': 'CleanupRun deletes a job-wait token only for a run that ends abnormally while waiting for its job (job-events.test.ts)',
      // The evaluation's Distributed Map, which training-only runs do not reach: reading the shard
      // manifest, starting child executions, writing Map Run results (multipart for large ones),
      // and what CDK grants for watching, stopping and redriving children inside the service.
      's3:GetObject': 'the Distributed Map reads the shard manifest (evaluation only)',
      's3:PutObject': 'the Distributed Map writes its Map Run results (evaluation only)',
      's3:ListMultipartUploadParts': 'Map Run results large enough for a multipart upload',
      's3:AbortMultipartUpload': 'Map Run results large enough for a multipart upload',
      'states:StartExecution': 'the Distributed Map starts one child execution per shard (evaluation only)',
      'states:DescribeExecution': 'CDK\'s Distributed Map policy: the service watches the child executions',
      'states:StopExecution': 'CDK\'s Distributed Map policy: the service stops children when the Map Run fails or is aborted',
      'states:RedriveExecution': 'CDK\'s Distributed Map policy: redriving a failed Map Run',
      // An experiment's variants are executions of this state machine, waited for with .sync:2 (experiment-workflow.test.ts).
      'events:PutRule': 'the rule Step Functions manages for .sync waits on the variants of an experiment',
      'events:PutTargets': 'the rule Step Functions manages for .sync waits on the variants of an experiment',
      'events:DescribeRule': 'the rule Step Functions manages for .sync waits on the variants of an experiment',
    };
    const unexplained = unused.flatMap((u) => u.actions.filter((a) => !explained[a]).map((a) => `${u.role}: ${a}`));
    expect(unexplained).toEqual([]);
    expect(h.aws.callLog.count({ principal: h.runner.functionLogicalId('launch-job') })).toBeGreaterThan(0);
    expect(h.aws.callLog.count({ principal: h.runner.functionLogicalId('cleanup-run') })).toBeGreaterThan(0);
  });
});

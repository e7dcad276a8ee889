import { BedrockClient, GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { JobEventResult } from '../../lambda/job-event';
import { startHarness, waitFor, WorkflowHarness, arithmeticRecords } from './harness';
import { WorkflowExecution } from '../support/local-workflow';

/**
 * Event-driven job tracking end to end, offline: the synthesized state machine waits on a real
 * task token (WaitForJobEnd); LocalBedrock's job state change events reach LocalEventBridge's
 * default bus, the synthesized JobEventRule delivers them to the real job-event function, which
 * resumes the execution through LocalStepFunctions (SendTaskSuccess over loopback). The safety
 * poll (the wait's timeout) is scaled by the runner: 60 s here, so a run that moves on did so
 * because of the event; the "missed event" harness below times out after 1.5 s instead.
 */
const request = (name: string) => ({ name, model: 'llama3.2-1b', trainingData: 'data/train.jsonl', validationData: 'data/validation.jsonl' });

async function seeded(h: WorkflowHarness): Promise<WorkflowHarness> {
  h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
  h.aws.s3.putObject(h.datasets, 'data/validation.jsonl', arithmeticRecords(20, 500));
  return h;
}

/** The job of the run named `name` once it exists. */
async function jobOf(h: WorkflowHarness, name: string) {
  await waitFor(`the job of ${name}`, () => h.aws.bedrock.jobs().some((j) => j.jobName.startsWith(`${name}-`)));
  return h.aws.bedrock.jobs().find((j) => j.jobName.startsWith(`${name}-`))!;
}

/** Waits until the execution waits on a task token in WaitForJobEnd; returns the token. */
async function waitingToken(h: WorkflowHarness, execution: WorkflowExecution): Promise<string> {
  const find = () => h.aws.stepFunctions.waitingTasks().find((t) => t.executionArn === execution.executionArn && t.stateName === 'WaitForJobEnd');
  // The token exists from the task's start; the run waits once the function stored it.
  await waitFor('the run to wait for its job', () => find() !== undefined && execution.events.some((e) => e.type === 'StateEntered' && e.state === 'WaitForJobEnd') && h.runner.invocations('wait-for-job-end').some((i) => (i.event as { executionArn: string }).executionArn === execution.executionArn && i.payload !== undefined));
  return find()!.token;
}

/** What the job-event function did with the events of a job. */
function jobEventResults(h: WorkflowHarness, jobArn: string): JobEventResult[] {
  return h.runner
    .invocations('job-event')
    .filter((i) => (i.event as { detail: { jobArn: string } }).detail.jobArn === jobArn)
    .map((i) => {
      expect(i.error).toBeUndefined();
      return i.payload as JobEventResult;
    });
}

/** Task tokens still stored under job-waits/ for the job. */
const tokenFiles = (h: WorkflowHarness, jobArn: string) => h.aws.s3.listKeys(h.artifacts, `job-waits/${jobArn.split('/').pop()}`);

const count = (execution: { events: ReadonlyArray<{ type: string; state?: string }> }, type: string, state: string) => execution.events.filter((e) => e.type === type && e.state === state).length;

describe('event-driven job tracking (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  beforeAll(async () => {
    h = await seeded(await startHarness(undefined, { tokenWaitOverrides: { WaitForJobEnd: 60_000 } }));
  });
  afterAll(async () => h?.stop());
  beforeEach(() => h.aws.bedrock.setJobScenario({ afterPolls: 'manual' }));

  test('the event arrives: the run moves on within seconds, without a safety poll', async () => {
    const { executions } = await h.upload('requests/on-time.json', request('on-time'));
    const execution = executions[0];
    const job = await jobOf(h, 'on-time');
    await waitingToken(h, execution);
    const endedAt = Date.now();
    h.aws.bedrock.completeJob(job.jobArn);
    const outcome = await execution.result;
    expect(outcome.status).toBe('SUCCEEDED');
    const movedOn = outcome.events.find((e) => e.type === 'StateEntered' && e.state === 'CheckJob')!;
    expect(movedOn.timestamp - endedAt).toBeLessThan(10_000);
    // Resumed (TaskSucceeded), not timed out; one wait, one check.
    expect(count(outcome, 'StateExited', 'WaitForJobEnd')).toBe(1);
    expect(count(outcome, 'StateFailed', 'WaitForJobEnd')).toBe(0);
    expect(count(outcome, 'StateEntered', 'CheckJob')).toBe(1);
    expect(jobEventResults(h, job.jobArn)).toEqual([{ resumed: execution.executionArn }]);
    expect(h.runRecord(job.jobName)!.job).toMatchObject({ status: 'Completed', outputModelArn: expect.stringContaining(':custom-model/') });
    // The wait is over: CheckJob deleted the token (it existed while the run waited).
    expect(h.aws.callLog.entries().some((c) => c.action === 's3:DeleteObject' && c.resources.some((r) => r.includes(`job-waits/${job.jobArn.split('/').pop()}`)))).toBe(true);
    expect(tokenFiles(h, job.jobArn)).toEqual([]);
  });

  test('a duplicate event is ignored: one resume, no second transition, no error', async () => {
    const { executions } = await h.upload('requests/duplicate.json', request('duplicate'));
    const execution = executions[0];
    const job = await jobOf(h, 'duplicate');
    await waitingToken(h, execution);
    h.aws.bedrock.completeJob(job.jobArn);
    // EventBridge delivers at least once: the same event again.
    const [event] = h.aws.events.events({ source: 'aws.bedrock' }).filter((e) => (e.detail as { jobArn: string; jobStatus: string }).jobArn === job.jobArn && (e.detail as { jobStatus: string }).jobStatus === 'Completed');
    h.aws.events.putServiceEvent({ source: event.source, detailType: event.detailType, detail: event.detail, resources: event.resources, time: event.time });
    const outcome = await execution.result;
    await h.runner.idle();
    expect(outcome.status).toBe('SUCCEEDED');
    expect(count(outcome, 'StateEntered', 'CheckJob')).toBe(1);
    const results = jobEventResults(h, job.jobArn);
    expect(results).toHaveLength(2);
    expect(results).toContainEqual({ resumed: execution.executionArn });
    // The second finds the used token (TaskTimedOut), or none once CheckJob deleted it.
    expect(results).toContainEqual({ ignored: expect.stringMatching(/no longer waits|no run of this deployment waits/) });
    expect(tokenFiles(h, job.jobArn)).toEqual([]);
  });

  test('an event for a job this deployment did not start is logged and ignored; the waiting run waits on', async () => {
    const { executions } = await h.upload('requests/bystander.json', request('bystander'));
    const execution = executions[0];
    const job = await jobOf(h, 'bystander');
    const token = await waitingToken(h, execution);
    const strangerArn = `arn:aws:bedrock:${h.aws.region}:${h.aws.accountId}:model-customization-job/meta.llama3-2-1b-instruct-v1:0:128k/zz9stranger1`;
    h.aws.events.putServiceEvent({ source: 'aws.bedrock', detailType: 'Model Customization Job State Change', detail: { version: '0.0', jobArn: strangerArn, jobName: 'someone-else', jobStatus: 'Completed' }, resources: [strangerArn] });
    await waitFor('the stranger event to be handled', () => jobEventResults(h, strangerArn).length === 1);
    expect(jobEventResults(h, strangerArn)).toEqual([{ ignored: 'no run of this deployment waits for this job' }]);
    expect(h.aws.stepFunctions.isWaiting(token)).toBe(true);
    expect(count(execution, 'StateEntered', 'CheckJob')).toBe(0);
    h.aws.bedrock.completeJob(job.jobArn);
    expect((await execution.result).status).toBe('SUCCEEDED');
  });

  test('the job ends before the run waits: its event finds no token, and the registration resumes the run itself', async () => {
    // The job ends the moment Bedrock creates it, before LaunchJob has even returned.
    const stop = h.aws.bedrock.onJobStateChange((e) => {
      if (e.detail.jobName.startsWith('early-') && e.detail.jobStatus === 'InProgress') setImmediate(() => h.aws.bedrock.completeJob(e.detail.jobArn));
    });
    try {
      const started = Date.now();
      const { executions } = await h.upload('requests/early.json', request('early'));
      const outcome = await executions[0].result;
      expect(outcome.status).toBe('SUCCEEDED');
      expect(Date.now() - started).toBeLessThan(30_000);
      const job = await jobOf(h, 'early');
      await h.runner.idle();
      expect(jobEventResults(h, job.jobArn)).toEqual([{ ignored: 'no run of this deployment waits for this job' }]);
      const registration = h.runner.invocations('wait-for-job-end').find((i) => (i.event as { jobArn: string }).jobArn === job.jobArn)!;
      expect(registration.payload).toEqual({ registered: true, jobStatus: 'Completed' });
      expect(count(outcome, 'StateExited', 'WaitForJobEnd')).toBe(1);
      expect(count(outcome, 'StateFailed', 'WaitForJobEnd')).toBe(0);
    } finally {
      stop();
    }
  });

  test("a job that fails ends the run with Bedrock's failure message, as soon as its event arrives", async () => {
    const { executions } = await h.upload('requests/failing.json', request('failing'));
    const execution = executions[0];
    const job = await jobOf(h, 'failing');
    await waitingToken(h, execution);
    h.aws.bedrock.failJob(job.jobArn, 'Training data has 3 malformed records.');
    const outcome = await execution.result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('JobFailed');
    expect(outcome.cause).toBe(`Bedrock customization job ${job.jobName} ended Failed: Training data has 3 malformed records.`);
    expect(count(outcome, 'StateFailed', 'WaitForJobEnd')).toBe(0);
    expect(jobEventResults(h, job.jobArn)).toEqual([{ resumed: execution.executionArn }]);
    await h.runner.idle();
    expect(tokenFiles(h, job.jobArn)).toEqual([]);
  });

  test('a job stopped outside the run ends the run as stopped once Bedrock announces Stopped', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: 'manual', stopAfterPolls: 0 });
    const { executions } = await h.upload('requests/stopped.json', request('stopped'));
    const execution = executions[0];
    const job = await jobOf(h, 'stopped');
    await waitingToken(h, execution);
    // Someone stops the job in the console; Bedrock finishes stopping it (its next status read).
    const bedrock = new BedrockClient({});
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: job.jobArn }));
    expect(h.aws.stepFunctions.isWaiting((await waitingToken(h, execution)))).toBe(true); // Stopping is not an end
    await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: job.jobArn }));
    bedrock.destroy();
    const outcome = await execution.result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('JobFailed');
    expect(outcome.cause).toBe(`Bedrock customization job ${job.jobName} ended Stopped: the job was stopped`);
    expect(jobEventResults(h, job.jobArn)).toEqual([{ resumed: execution.executionArn }]);
    await h.runner.idle();
    expect(tokenFiles(h, job.jobArn)).toEqual([]);
  });

  test('aborted while waiting: the cleanup stops the job, and the late Stopped event is ignored', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: 'manual', stopAfterPolls: 0 });
    const { executions } = await h.upload('requests/aborted-wait.json', request('aborted-wait'));
    const execution = executions[0];
    const job = await jobOf(h, 'aborted-wait');
    const token = await waitingToken(h, execution);
    expect(tokenFiles(h, job.jobArn)).toHaveLength(1);
    execution.abort();
    const outcome = await execution.result;
    expect(outcome.status).toBe('ABORTED');
    await h.runner.idle();
    expect(h.aws.stepFunctions.isWaiting(token)).toBe(false);
    const cleanup = outcome.ruleDeliveries.find((d) => (d.event.detail as { status: string }).status === 'ABORTED')!;
    expect(cleanup.invocation?.payload).toMatchObject({ jobStopped: true, outcomeRecorded: true });
    // The cleanup's own status check (or Bedrock) takes the job to Stopped; its event comes after the run ended.
    const bedrock = new BedrockClient({});
    await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: job.jobArn }));
    bedrock.destroy();
    expect(h.aws.bedrock.job(job.jobArn)!.status).toBe('Stopped');
    await waitFor('the Stopped event to be handled', () => jobEventResults(h, job.jobArn).length === 1);
    // The cleanup deleted the token, so the late event finds none.
    expect(jobEventResults(h, job.jobArn)).toEqual([{ ignored: 'no run of this deployment waits for this job' }]);
    expect(h.runRecord(job.jobName)!.status).toBe('ABORTED');
    expect(tokenFiles(h, job.jobArn)).toEqual([]);
  });

  test('every call was allowed by the synthesized roles, the new functions and the state machine role included', async () => {
    await h.runner.idle();
    const { denied } = h.runner.checkIam();
    expect(denied).toEqual([]);
    for (const handler of ['wait-for-job-end', 'job-event']) {
      expect(h.aws.callLog.count({ principal: h.runner.functionLogicalId(handler), action: 'states:SendTaskSuccess' } as never)).toBeGreaterThan(0);
    }
    const machineRole = h.runner.definition && h.aws.callLog.entries().filter((c) => c.action === 'lambda:InvokeFunction' && c.resources[0].includes('WaitForJobEnd'));
    expect(machineRole.length).toBeGreaterThan(0);
  });
});

describe('event-driven job tracking when the event is missed (offline, safety poll after 1.5 s)', () => {
  let h: WorkflowHarness;
  const SAFETY_POLL_MS = 1_500;
  beforeAll(async () => {
    h = await seeded(await startHarness(undefined, { tokenWaitOverrides: { WaitForJobEnd: SAFETY_POLL_MS } }));
  });
  afterAll(async () => h?.stop());

  test('a lost event costs at most one safety-poll interval: the wait times out into a new wait, whose check finds the job ended', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
    const unlose = h.aws.events.loseServiceEvents((e) => String((e.detail as { jobName?: string }).jobName).startsWith('missed-'));
    try {
      const { executions } = await h.upload('requests/missed.json', request('missed'));
      const execution = executions[0];
      const job = await jobOf(h, 'missed');
      await waitingToken(h, execution);
      const endedAt = Date.now();
      h.aws.bedrock.completeJob(job.jobArn);
      const outcome = await execution.result;
      expect(outcome.status).toBe('SUCCEEDED');
      expect(h.aws.events.lostEvents().some((e) => (e.detail as { jobArn: string }).jobArn === job.jobArn)).toBe(true);
      expect(jobEventResults(h, job.jobArn)).toEqual([]);
      // The wait that was running when the job ended timed out into WaitForJobEnd again (no other
      // state between: a round is one transition), whose check saw the job ended and resumed the run.
      const timeouts = outcome.events.filter((e) => e.type === 'StateFailed' && e.state === 'WaitForJobEnd');
      expect(timeouts.length).toBeGreaterThanOrEqual(1);
      expect(timeouts.every((e) => e.error === 'States.Timeout')).toBe(true);
      const waitRounds = outcome.transitions.slice(outcome.transitions.indexOf('WaitForJobEnd'), outcome.transitions.indexOf('CheckJob'));
      expect(waitRounds).toEqual(Array(timeouts.length + 1).fill('WaitForJobEnd'));
      expect(count(outcome, 'StateEntered', 'CheckJob')).toBe(1);
      const lastRegistration = h.runner.invocations('wait-for-job-end').filter((i) => (i.event as { executionArn: string }).executionArn === execution.executionArn).at(-1)!;
      expect(lastRegistration.payload).toEqual({ registered: true, jobStatus: 'Completed' });
      const movedOn = outcome.events.find((e) => e.type === 'StateEntered' && e.state === 'CheckJob' && e.timestamp >= endedAt)!;
      expect(movedOn.timestamp - endedAt).toBeLessThanOrEqual(SAFETY_POLL_MS + 1_000);
      expect(h.runRecord(job.jobName)!.status).toBe('SUCCEEDED');
      // Every safety-poll round rewrote the token; none is left once the run moved on.
      expect(tokenFiles(h, job.jobArn)).toEqual([]);
    } finally {
      unlose();
    }
  });
});

/**
 * The long wait of the paid integration test: what it deploys, and what its signalling
 * function sends, run here against a local stand-in for the wait condition's presigned URL.
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { testStack } from '../support/cdk';
import { ExecutionEndWait, SIGNAL_CODE } from './support/execution-end-wait';

const STATE_MACHINE_ARN = 'arn:aws:states:us-west-2:111122223333:stateMachine:UnderTest';

describe('ExecutionEndWait resources', () => {
  const stack = testStack();
  const wait = new ExecutionEndWait(stack, 'RunEnd', { stateMachineArn: STATE_MACHINE_ARN, timeout: Duration.hours(8) });
  const template = Template.fromStack(stack);

  test('a wait condition for one signal with the timeout in seconds', () => {
    template.hasResourceProperties('AWS::CloudFormation::WaitCondition', { Count: 1, Timeout: String(8 * 3600) });
    expect(stack.resolve(wait.condition.handle)).toEqual({ Ref: expect.stringMatching(/^RunEndHandle/) });
  });

  test("a rule on the end of this state machine's executions, targeting the signalling function", () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [STATE_MACHINE_ARN], status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { WAIT_HANDLE_URL: { Ref: Match.stringLikeRegexp('^RunEndHandle') } } },
    });
    template.resourceCountIs('AWS::Lambda::Permission', 1);
  });

  test('refuses a timeout CloudFormation does not allow', () => {
    const other = testStack(undefined, 'Other');
    expect(() => new ExecutionEndWait(other, 'TooLong', { stateMachineArn: STATE_MACHINE_ARN, timeout: Duration.hours(13) })).toThrow(/outside CloudFormation's 1 second to 12 hours/);
  });
});

interface ReceivedSignal {
  readonly method?: string;
  readonly contentType?: string;
  readonly body: Record<string, string>;
}

describe('the signalling function', () => {
  let server: http.Server;
  let received: ReceivedSignal[];
  let answerStatus: number;
  let handler: (event: unknown) => Promise<void>;
  let codeDir: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method, contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(answerStatus).end(answerStatus === 200 ? '' : '<Error>SignatureDoesNotMatch</Error>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.WAIT_HANDLE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/signal?X-Amz-Signature=abc`;
    // The exact text the function is deployed with, loaded as its index.js.
    codeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'execution-end-signal-'));
    fs.writeFileSync(path.join(codeDir, 'index.js'), SIGNAL_CODE);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = require(path.join(codeDir, 'index.js')).handler;
  });

  afterAll(async () => {
    delete process.env.WAIT_HANDLE_URL;
    fs.rmSync(codeDir, { recursive: true, force: true });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    received = [];
    answerStatus = 200;
  });

  const event = (detail: Record<string, unknown>) => ({ source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change', detail });

  test('signals SUCCESS for a succeeded execution, with a PUT that carries no Content-Type', async () => {
    await handler(event({ name: 'exec-1', status: 'SUCCEEDED' }));
    expect(received).toEqual([{ method: 'PUT', contentType: undefined, body: { Status: 'SUCCESS', Reason: 'Execution exec-1 succeeded', UniqueId: 'exec-1', Data: 'SUCCEEDED' } }]);
  });

  test('signals FAILURE with the error and cause for any other end', async () => {
    await handler(event({ name: 'exec-2', status: 'FAILED', error: 'JobFailed', cause: 'Bedrock customization job x ended Failed: quota' }));
    await handler(event({ name: 'exec-3', status: 'TIMED_OUT' }));
    expect(received.map((r) => r.body)).toEqual([
      { Status: 'FAILURE', Reason: 'Execution exec-2 ended FAILED: JobFailed Bedrock customization job x ended Failed: quota', UniqueId: 'exec-2', Data: 'FAILED' },
      { Status: 'FAILURE', Reason: 'Execution exec-3 ended TIMED_OUT:  ', UniqueId: 'exec-3', Data: 'TIMED_OUT' },
    ]);
  });

  test('keeps the reason short, whatever the cause', async () => {
    await handler(event({ name: 'exec-4', status: 'FAILED', error: 'InvalidDataset', cause: 'x'.repeat(5000) }));
    expect(received[0].body.Reason.length).toBe(1000);
  });

  test('throws (so EventBridge retries) when the URL refuses the signal', async () => {
    answerStatus = 403;
    await expect(handler(event({ name: 'exec-5', status: 'SUCCEEDED' }))).rejects.toThrow(/HTTP 403 <Error>SignatureDoesNotMatch<\/Error>/);
  });
});

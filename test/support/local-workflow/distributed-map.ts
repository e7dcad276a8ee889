/**
 * A Distributed Map state run offline, as Step Functions runs it (the interpreter runs inline
 * Maps only): the items come from the ItemReader (an S3 object read with the state machine's
 * role) or ItemsPath; each item, after ItemSelector, is the input of a child execution of the
 * ItemProcessor with a history of its own; at most MaxConcurrency run at once; the Map Run
 * fails with States.ExceedToleratedFailureThreshold (catchable) once more children failed than
 * ToleratedFailureCount / ToleratedFailurePercentage allow, stopping the ones still running;
 * results go to the ResultWriter's S3 prefix, or into the state's result.
 */
import { randomUUID } from 'node:crypto';
import { TaskServiceFailure } from './lambda-errors';
import { jsonPathValue } from './eventbridge-target-input';
import { AslState } from './state-machine-definition';
import { DataLimitExceeded, MAX_PAYLOAD_BYTES, payloadBytes } from './service-limits';

/** How a child execution ended. */
export interface ChildOutcome {
  readonly executionArn: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly historyEventCount: number;
}

/** A started child execution. */
export interface ChildExecution {
  readonly result: Promise<ChildOutcome>;
  abort(): void;
}

/** What a Map Run needs from the runner. */
export interface MapRunContext {
  readonly stateName: string;
  readonly state: AslState;
  /** The parent's context object (Execution, StateMachine), for ItemSelector's `$$`. */
  readonly context: Record<string, unknown>;
  readonly mapRunArn: string;
  /** Starts one child execution (StartExecution by the state machine role). */
  startChild(input: unknown, index: number): ChildExecution;
  /** Stops a running child (StopExecution by the state machine role). */
  stopChild(child: ChildExecution, index: number): void;
  /** Reads an S3 object as the state machine role; throws a Task failure when it cannot. */
  readObject(bucket: string, key: string): Buffer;
  /** Writes an S3 object as the state machine role. */
  writeObject(bucket: string, key: string, body: string): void;
  /** Registers what to do when the parent execution ends early (abort, timeout, failure). */
  onParentEnd(listener: () => void): void;
}

/** Step Functions' default MaxConcurrency of a Distributed Map (0 means this too). */
const DEFAULT_MAX_CONCURRENCY = 10_000;

/** Runs the Map Run with the state's effective input; returns the state's result. */
export async function runDistributedMap(input: unknown, ctx: MapRunContext): Promise<unknown> {
  const { state } = ctx;
  for (const field of ['ItemBatcher', 'ItemsPointer']) {
    if (state[field] !== undefined) throw new Error(`Distributed Map '${ctx.stateName}': ${field} is not supported by the local workflow runner; add it in test/support/local-workflow/distributed-map.ts.`);
  }
  const items = readItems(input, ctx);
  const selector = (state.ItemSelector ?? state.Parameters) as Record<string, unknown> | undefined;
  const inputs = items.map((value, index) => {
    const itemInput = selector === undefined ? value : resolveTemplate(selector, input, { ...ctx.context, Map: { Item: { Index: index, Value: value } } }, `${ctx.stateName}.ItemSelector`);
    return itemInput;
  });

  const maxConcurrency = Number(state.MaxConcurrency ?? 0) || DEFAULT_MAX_CONCURRENCY;
  const toleratedCount = numberField(state, 'ToleratedFailureCount', input);
  const toleratedPercent = numberField(state, 'ToleratedFailurePercentage', input);
  const total = inputs.length;
  const exceeded = (failed: number) =>
    (toleratedCount === undefined && toleratedPercent === undefined && failed > 0) ||
    (toleratedCount !== undefined && failed > toleratedCount) ||
    (toleratedPercent !== undefined && total > 0 && (failed / total) * 100 > toleratedPercent);

  const outcomes: Array<ChildOutcome | undefined> = new Array(total);
  const running = new Map<number, ChildExecution>();
  let next = 0;
  let failed = 0;
  let stopped = false;
  const stopAll = () => {
    stopped = true;
    for (const [index, child] of running) ctx.stopChild(child, index);
  };
  ctx.onParentEnd(stopAll);

  const worker = async () => {
    while (!stopped && next < total) {
      const index = next++;
      const itemInput = inputs[index];
      const bytes = payloadBytes(itemInput);
      if (bytes > MAX_PAYLOAD_BYTES) {
        // The child cannot start with this input: it counts as a failed item.
        outcomes[index] = { executionArn: '', status: 'FAILED', error: 'States.DataLimitExceeded', cause: new DataLimitExceeded(ctx.stateName, 'item', bytes).message, historyEventCount: 0 };
      } else {
        const child = ctx.startChild(itemInput, index);
        running.set(index, child);
        outcomes[index] = await child.result;
        running.delete(index);
      }
      if (outcomes[index]!.status !== 'SUCCEEDED') {
        failed += 1;
        if (exceeded(failed)) stopAll();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(maxConcurrency, total) }, worker));

  const results = outcomes.map((o, index) => ({ index, outcome: o }));
  if (exceeded(failed)) {
    writeResults(ctx, input, results);
    // As in AWS, the children's errors stay in their own executions (and the results), not in this cause.
    throw new TaskServiceFailure('States.ExceedToleratedFailureThreshold', `The specified tolerated failure threshold was exceeded by the Map Run ${ctx.mapRunArn}.`);
  }
  const written = writeResults(ctx, input, results);
  return written ?? results.map((r) => r.outcome?.output);
}

function readItems(input: unknown, ctx: MapRunContext): unknown[] {
  const reader = ctx.state.ItemReader as { Resource?: string; Parameters?: Record<string, unknown>; ReaderConfig?: { InputType?: string; MaxItems?: number } } | undefined;
  if (!reader) {
    const items = jsonPathValue(input, String(ctx.state.ItemsPath ?? '$'));
    if (!Array.isArray(items)) throw new TaskServiceFailure('States.Runtime', `Distributed Map '${ctx.stateName}': ItemsPath did not select an array.`);
    return items;
  }
  if (!/:states:::s3:getObject$/.test(String(reader.Resource))) {
    throw new Error(`Distributed Map '${ctx.stateName}': ItemReader ${reader.Resource} is not supported by the local workflow runner (only s3:getObject with JSON or JSONL).`);
  }
  const params = resolveTemplate(reader.Parameters ?? {}, input, ctx.context, `${ctx.stateName}.ItemReader.Parameters`) as { Bucket?: string; Key?: string };
  const body = ctx.readObject(String(params.Bucket), String(params.Key)).toString('utf8');
  const type = reader.ReaderConfig?.InputType ?? 'JSON';
  let items: unknown;
  try {
    if (type === 'JSON') items = JSON.parse(body);
    else if (type === 'JSONL') items = body.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
    else throw new Error(`InputType ${type} is not supported by the local workflow runner`);
  } catch (err) {
    throw new TaskServiceFailure('States.ItemReaderFailed', `Could not read items from s3://${params.Bucket}/${params.Key}: ${(err as Error).message}`);
  }
  if (!Array.isArray(items)) throw new TaskServiceFailure('States.ItemReaderFailed', `s3://${params.Bucket}/${params.Key} does not hold a JSON array.`);
  const max = reader.ReaderConfig?.MaxItems;
  return max ? items.slice(0, max) : items;
}

/** Writes the results where the ResultWriter says; returns the state's result then. */
function writeResults(ctx: MapRunContext, input: unknown, results: Array<{ index: number; outcome?: ChildOutcome }>): unknown {
  const writer = ctx.state.ResultWriter as { Resource?: string; Parameters?: Record<string, unknown> } | undefined;
  if (!writer?.Resource) return undefined;
  const params = resolveTemplate(writer.Parameters ?? {}, input, ctx.context, `${ctx.stateName}.ResultWriter.Parameters`) as { Bucket?: string; Prefix?: string };
  const bucket = String(params.Bucket);
  const mapRunId = ctx.mapRunArn.split(':').pop()!;
  const base = `${params.Prefix ? `${String(params.Prefix).replace(/\/$/, '')}/` : ''}${mapRunId}/`;
  const files: Array<{ Key: string; Size: number }> = [];
  for (const status of ['SUCCEEDED', 'FAILED', 'ABORTED'] as const) {
    const rows = results
      .filter((r) => r.outcome?.status === status)
      .map((r) => ({ ExecutionArn: r.outcome!.executionArn, Status: status, ...(status === 'SUCCEEDED' ? { Output: JSON.stringify(r.outcome!.output ?? null) } : { Error: r.outcome!.error, Cause: r.outcome!.cause }) }));
    if (rows.length === 0) continue;
    const key = `${base}${status}_0.json`;
    const body = JSON.stringify(rows);
    ctx.writeObject(bucket, key, body);
    files.push({ Key: key, Size: Buffer.byteLength(body) });
  }
  const manifestKey = `${base}manifest.json`;
  ctx.writeObject(bucket, manifestKey, JSON.stringify({ DestinationBucket: bucket, MapRunArn: ctx.mapRunArn, ResultFiles: { SUCCEEDED: files.filter((f) => f.Key.endsWith('SUCCEEDED_0.json')), FAILED: files.filter((f) => f.Key.endsWith('FAILED_0.json')), PENDING: [] } }));
  return { MapRunArn: ctx.mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
}

function numberField(state: AslState, field: string, input: unknown): number | undefined {
  if (state[field] !== undefined) return Number(state[field]);
  const path = state[`${field}Path`];
  return path === undefined ? undefined : Number(jsonPathValue(input, String(path)));
}

/**
 * A Parameters-style template: keys ending in `.$` take the value at a path of the input
 * (`$...`) or of the context object (`$$...`). Intrinsic functions are not evaluated here.
 */
export function resolveTemplate(template: unknown, input: unknown, context: unknown, where: string): unknown {
  if (Array.isArray(template)) return template.map((v, i) => resolveTemplate(v, input, context, `${where}[${i}]`));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template as Record<string, unknown>)) {
    if (key.endsWith('.$')) {
      const path = String(value);
      if (path.startsWith('States.')) throw new Error(`${where}.${key}: intrinsic functions are not evaluated by the local workflow runner's Distributed Map; use a path.`);
      out[key.slice(0, -2)] = path.startsWith('$$') ? jsonPathValue(context, path.slice(1)) : jsonPathValue(input, path);
    } else {
      out[key] = resolveTemplate(value, input, context, `${where}.${key}`);
    }
  }
  return out;
}

/** A Map Run ARN for a run of this state machine's Distributed Map. */
export function mapRunArnOf(stateMachineArn: string, label: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${label}:${randomUUID()}`;
}

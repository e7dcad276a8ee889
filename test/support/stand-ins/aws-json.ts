/**
 * The AWS JSON protocol (awsJson1_0 / awsJson1_1) as the SDK speaks it, once for every stand-in
 * that serves it (LocalSsm, LocalStepFunctions, LocalEventBridge): `POST /` with
 * `X-Amz-Target: <prefix>.<Operation>` and a JSON body; an error answers `x-amzn-errortype`
 * plus `{"__type", "message"}`. Each request goes through the same steps: unknown operation,
 * body parsing, the resources IAM would evaluate, an injected fault, the access check, then
 * the service's own handler; every answer goes to the call log.
 */
import { AwsCallLog } from '../aws-call-log';
import { FaultPlan } from './fault-plan';
import { newRequestId, principalOf, readBody, sendJson, StandInRequest, StandInResponse } from './http-server';

/** An error the service answers with (`type` becomes `__type` and `x-amzn-errortype`). */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'AwsJsonError';
  }
}

/** Decides whether a principal may perform an action on resources (same shape as LocalS3's Authorizer). */
export type AwsJsonAuthorizer = (request: { readonly principal: string; readonly action: string; readonly resources: readonly string[] }) => boolean;

/** What a stand-in tells {@link answerAwsJson} about its service. */
export interface AwsJsonService<Op extends string> {
  /** Stand-in name and source file, for the message of an operation it does not implement. */
  readonly standIn: string;
  readonly sourceFile: string;
  /** `X-Amz-Target` prefix without the dot: `AmazonSSM`, `AWSStepFunctions`, `AWSEvents`. */
  readonly targetPrefix: string;
  readonly jsonVersion: '1.0' | '1.1';
  /** IAM service prefix: the call log records `<iamPrefix>:<Operation>`. */
  readonly iamPrefix: string;
  readonly operations: readonly Op[];
  readonly callLog: AwsCallLog;
}

/** The steps of one request a stand-in supplies. */
export interface AwsJsonHandler<Op extends string> {
  /** The ARNs IAM evaluates for the call (may throw an AwsJsonError for a malformed request). */
  resourcesOf(operation: Op, body: Record<string, unknown>): string[];
  readonly faults: FaultPlan;
  readonly authorizer?: AwsJsonAuthorizer;
  /** The operation itself; its result is the response body. */
  answer(operation: Op, body: Record<string, unknown>, principal: string): unknown;
}

/** Answers one request; errors other than AwsJsonError are stand-in bugs and propagate (startServer answers 500). */
export async function answerAwsJson<Op extends string>(req: StandInRequest, res: StandInResponse, service: AwsJsonService<Op>, handler: AwsJsonHandler<Op>): Promise<void> {
  const requestId = newRequestId();
  const principal = principalOf(req, new URL(req.url ?? '/', 'http://127.0.0.1').searchParams);
  const raw = await readBody(req);
  const target = String(req.headers['x-amz-target'] ?? '');
  const operation = target.startsWith(`${service.targetPrefix}.`) ? target.slice(service.targetPrefix.length + 1) : '';
  let status = 200;
  let errorType: string | undefined;
  let payload: unknown = {};
  let resources = ['*'];
  try {
    if (req.method !== 'POST' || !(service.operations as readonly string[]).includes(operation)) {
      throw new AwsJsonError(
        'UnknownOperationException',
        `${service.standIn} implements ${service.operations.join(', ')}; got ${req.method} with X-Amz-Target '${target}'. Add the operation to ${service.sourceFile}.`,
      );
    }
    const op = operation as Op;
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      throw new AwsJsonError('SerializationException', 'The request body is not a valid JSON object.');
    }
    resources = handler.resourcesOf(op, body);
    const fault = handler.faults.take(op);
    if (fault) throw new AwsJsonError(fault.code, fault.message ?? fault.code, fault.status);
    const action = `${service.iamPrefix}:${op}`;
    if (handler.authorizer && !handler.authorizer({ principal, action, resources })) {
      throw new AwsJsonError('AccessDeniedException', `User: ${principal} is not authorized to perform: ${action} on resource: ${resources.join(', ')} because no identity-based policy allows the ${action} action`);
    }
    payload = handler.answer(op, body, principal) ?? {};
  } catch (err) {
    if (!(err instanceof AwsJsonError)) throw err;
    status = err.status;
    errorType = err.type;
    payload = { __type: err.type, message: err.message };
  }
  const recorded = operation || 'Unknown';
  service.callLog.record({ requestId, service: service.iamPrefix, operation: recorded, action: `${service.iamPrefix}:${recorded}`, resources, status, errorCode: errorType, principal });
  sendJson(res, { status, payload, requestId, contentType: `application/x-amz-json-${service.jsonVersion}`, errorType });
}

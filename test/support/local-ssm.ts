/**
 * LocalSsm: the AWS Systems Manager Parameter Store operations the model registry uses, on
 * 127.0.0.1 for the real `@aws-sdk/client-ssm` (awsJson1_1: `POST /` with
 * `X-Amz-Target: AmazonSSM.<Operation>`; errors as `x-amzn-errortype` and `{"__type", "message"}`).
 *
 * PutParameter, GetParameter, GetParametersByPath and GetParameterHistory follow the API
 * reference: versions count from 1 and every write adds one; writing an existing name without
 * `Overwrite` answers ParameterAlreadyExists; `Tags` with `Overwrite` answers ValidationException;
 * a Standard value holds at most 4 KB (ParameterMaxVersionLimitExceeded is not modelled: 100
 * versions are far from any test); names are at most 1011 characters, of letters, digits and
 * `_.-/`, at most 15 levels deep, and may not begin with `aws` or `ssm`; GetParametersByPath
 * takes 1 to 10 results a page. Every call goes to the call log as `ssm:<Operation>` on the
 * parameter's ARN (`arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`;
 * for GetParametersByPath, the path's).
 */
import { AwsCallLog } from './aws-call-log';
import { Authorizer } from './local-s3';
import { AwsScope } from './stand-ins/bedrock-arns';
import { FaultLength, FaultPlan } from './stand-ins/fault-plan';
import { newRequestId, principalOf, readBody, RunningServer, sendJson, StandInRequest, StandInResponse, startServer } from './stand-ins/http-server';

/** The operations LocalSsm answers. */
export type SsmOperation = 'PutParameter' | 'GetParameter' | 'GetParametersByPath' | 'GetParameterHistory';

const OPERATIONS: readonly SsmOperation[] = ['PutParameter', 'GetParameter', 'GetParametersByPath', 'GetParameterHistory'];

/** Largest Standard-tier value, in bytes. */
export const MAX_STANDARD_VALUE_BYTES = 4096;

/** One stored version of a parameter. */
export interface ParameterVersion {
  readonly name: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly value: string;
  readonly version: number;
  readonly lastModifiedDate: Date;
  readonly description?: string;
  /** Access key id of the writer. */
  readonly principal: string;
}

/** Options of {@link LocalSsm.start}. */
export interface LocalSsmOptions {
  readonly port?: number;
  readonly callLog?: AwsCallLog;
  readonly accountId?: string;
  readonly region?: string;
  readonly faultClock?: () => number;
}

const ERROR_STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  ParameterNotFound: 400,
  ParameterAlreadyExists: 400,
  ParameterMaxVersionLimitExceeded: 400,
  HierarchyLevelLimitExceededException: 400,
  InvalidNextToken: 400,
  AccessDeniedException: 400,
  ThrottlingException: 400,
  UnknownOperationException: 400,
  SerializationException: 400,
  InternalServerError: 500,
};

class SsmError extends Error {
  readonly status: number;
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.status = ERROR_STATUS[type] ?? 400;
  }
}

/** The ARN IAM evaluates for a parameter name or path. */
export function parameterArn(scope: AwsScope, name: string): string {
  return `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter/${name.replace(/^\//, '')}`;
}

/** An in-memory Parameter Store. */
export class LocalSsm {
  /** Starts LocalSsm on 127.0.0.1. */
  static async start(options: LocalSsmOptions = {}): Promise<LocalSsm> {
    const ssm = new LocalSsm(options);
    ssm.server = await startServer((req, res) => ssm.handle(req, res), options.port ?? 0, 'LocalSsm');
    return ssm;
  }

  readonly callLog: AwsCallLog;
  readonly scope: AwsScope;
  private server: RunningServer;
  private readonly parameters = new Map<string, ParameterVersion[]>();
  private readonly faults: FaultPlan;
  private authorizer?: Authorizer;

  private constructor(options: LocalSsmOptions) {
    this.callLog = options.callLog ?? new AwsCallLog();
    this.scope = { accountId: options.accountId ?? '111122223333', region: options.region ?? 'us-west-2' };
    this.faults = new FaultPlan(options.faultClock);
  }

  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SSM`. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    await this.server.close();
  }

  /** The current version of a parameter, or undefined. */
  parameter(name: string): ParameterVersion | undefined {
    const versions = this.parameters.get(name);
    return versions?.[versions.length - 1];
  }

  /** Every version of a parameter, oldest first. */
  history(name: string): ParameterVersion[] {
    return [...(this.parameters.get(name) ?? [])];
  }

  /** Names of the parameters that exist. */
  names(): string[] {
    return [...this.parameters.keys()];
  }

  /** Answers matching calls with an error type for `times`. */
  injectError(times: FaultLength, type: string, options: { operation?: SsmOperation; message?: string } = {}): void {
    this.faults.add(times, { status: ERROR_STATUS[type] ?? 400, code: type, message: options.message ?? type }, { operation: options.operation });
  }

  setAuthorizer(authorizer: Authorizer | undefined): void {
    this.authorizer = authorizer;
  }

  private async handle(req: StandInRequest, res: StandInResponse): Promise<void> {
    const requestId = newRequestId();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const principal = principalOf(req, url.searchParams);
    const raw = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = (target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '') as SsmOperation;
    let status = 200;
    let errorType: string | undefined;
    let payload: unknown = {};
    let resources: string[] = ['*'];
    try {
      if (req.method !== 'POST' || !OPERATIONS.includes(operation)) {
        throw new SsmError('UnknownOperationException', `LocalSsm does not implement '${target}'; add the operation to test/support/local-ssm.ts.`);
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new SsmError('SerializationException', 'The request body is not valid JSON.');
      }
      const name = String((operation === 'GetParametersByPath' ? body.Path : body.Name) ?? '');
      resources = [parameterArn(this.scope, name)];
      const fault = this.faults.take(operation);
      if (fault) throw new SsmError(fault.code, fault.message ?? fault.code);
      if (this.authorizer && !this.authorizer({ principal, action: `ssm:${operation}`, resources })) {
        throw new SsmError('AccessDeniedException', `User: ${principal} is not authorized to perform: ssm:${operation} on resource: ${resources[0]} because no identity-based policy allows the ssm:${operation} action`);
      }
      payload = this.dispatch(operation, body, principal);
    } catch (err) {
      if (!(err instanceof SsmError)) throw err;
      status = err.status;
      errorType = err.type;
      payload = { __type: err.type, message: err.message };
    }
    this.callLog.record({ requestId, service: 'ssm', operation: operation || 'Unknown', action: `ssm:${operation || 'Unknown'}`, resources, status, errorCode: errorType, principal });
    sendJson(res, { status, payload, requestId, contentType: 'application/x-amz-json-1.1', errorType: errorType });
  }

  private dispatch(operation: SsmOperation, body: Record<string, unknown>, principal: string): unknown {
    switch (operation) {
      case 'PutParameter':
        return this.put(body, principal);
      case 'GetParameter':
        return { Parameter: this.describe(this.require(String(body.Name ?? ''))) };
      case 'GetParameterHistory':
        return { Parameters: (this.parameters.get(String(body.Name ?? '')) ?? this.notFound(String(body.Name ?? ''))).map((v) => this.describe(v)) };
      case 'GetParametersByPath':
        return this.byPath(body);
    }
  }

  private notFound(name: string): never {
    throw new SsmError('ParameterNotFound', `Parameter ${name} not found.`);
  }

  private require(name: string): ParameterVersion {
    return this.parameter(name) ?? this.notFound(name);
  }

  private checkName(name: unknown): string {
    if (typeof name !== 'string' || name.length < 1 || name.length > 1011) throw new SsmError('ValidationException', `Parameter name '${String(name)}' must be 1-1011 characters.`);
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) throw new SsmError('ValidationException', `Parameter name '${name}' may contain only letters, digits and _.-/ characters.`);
    if (/^\/?(aws|ssm)/i.test(name)) throw new SsmError('ValidationException', `Parameter name '${name}' may not begin with aws or ssm (reserved).`);
    if (name.includes('/') && !name.startsWith('/')) throw new SsmError('ValidationException', `Parameter name '${name}' is a hierarchy and must begin with '/'.`);
    if (name.split('/').filter(Boolean).length > 15) throw new SsmError('HierarchyLevelLimitExceededException', `Parameter name '${name}' has more than 15 levels.`);
    return name;
  }

  private put(body: Record<string, unknown>, principal: string): unknown {
    const name = this.checkName(body.Name);
    const value = body.Value;
    if (typeof value !== 'string' || value.length < 1) throw new SsmError('ValidationException', "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
    if ((body.Tier ?? 'Standard') === 'Standard' && Buffer.byteLength(value) > MAX_STANDARD_VALUE_BYTES) {
      throw new SsmError('ValidationException', `Standard tier parameters support a maximum parameter value of ${MAX_STANDARD_VALUE_BYTES} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.`);
    }
    if (body.Tags !== undefined && body.Overwrite === true) throw new SsmError('ValidationException', 'Invalid request: tags and overwrite can\'t be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.');
    const existing = this.parameters.get(name);
    if (existing && body.Overwrite !== true) throw new SsmError('ParameterAlreadyExists', `The parameter already exists. To overwrite this value, set the overwrite option in the request to true.`);
    const type = (body.Type ?? existing?.[existing.length - 1].type ?? 'String') as ParameterVersion['type'];
    if (!['String', 'StringList', 'SecureString'].includes(type)) throw new SsmError('ValidationException', `Type '${String(type)}' is not String, StringList or SecureString.`);
    const version = (existing?.length ?? 0) + 1;
    const stored: ParameterVersion = { name, type, value, version, lastModifiedDate: new Date(), description: typeof body.Description === 'string' ? body.Description : undefined, principal };
    this.parameters.set(name, [...(existing ?? []), stored]);
    return { Version: version, Tier: 'Standard' };
  }

  private describe(p: ParameterVersion): Record<string, unknown> {
    return { Name: p.name, Type: p.type, Value: p.value, Version: p.version, LastModifiedDate: p.lastModifiedDate.getTime() / 1000, ARN: parameterArn(this.scope, p.name), DataType: 'text' };
  }

  private byPath(body: Record<string, unknown>): unknown {
    const path = body.Path;
    if (typeof path !== 'string' || !path.startsWith('/')) throw new SsmError('ValidationException', `Path '${String(path)}' must begin with '/'.`);
    const max = body.MaxResults === undefined ? 10 : Number(body.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 10) throw new SsmError('ValidationException', "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10");
    const base = path.endsWith('/') ? path : `${path}/`;
    const names = [...this.parameters.keys()]
      .filter((n) => n.startsWith(base) && (body.Recursive === true || !n.slice(base.length).includes('/')))
      .sort();
    const token = body.NextToken;
    const offset = token === undefined ? 0 : Number(Buffer.from(String(token), 'base64').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) throw new SsmError('InvalidNextToken', 'The specified token is not valid.');
    const page = names.slice(offset, offset + max);
    const next = offset + page.length < names.length ? Buffer.from(String(offset + page.length), 'utf8').toString('base64') : undefined;
    return { Parameters: page.map((n) => this.describe(this.parameter(n)!)), NextToken: next };
  }
}

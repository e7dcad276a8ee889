/**
 * LocalSsm: the AWS Systems Manager Parameter Store operations the model registry uses, on
 * 127.0.0.1 for the real `@aws-sdk/client-ssm` (awsJson1_1, through stand-ins/aws-json.ts).
 *
 * PutParameter, GetParameter, GetParametersByPath and GetParameterHistory follow the API
 * reference (PutParameterRequest, GetParameterRequest, ... in @aws-sdk/client-ssm's types, and
 * ParameterMaxVersionLimitExceeded), no more leniently:
 * - Names: spaces around a name are removed, spaces inside it are refused; letters, digits and
 *   `_.-/` only; a hierarchy begins with `/` (to create or to reference); at most 15 levels
 *   (HierarchyLevelLimitExceededException); a new name may not begin with `aws` or `ssm`
 *   (case-insensitive; AccessDeniedException under `/aws/`, as moto records, ValidationException
 *   otherwise; reading `/aws/service/...` public parameters is allowed), and counts
 *   against 1011 characters together with the ARN before it (`arn:aws:ssm:<region>:<account>:parameter/`).
 *   GetParameter also takes the parameter's ARN and a `name:version` selector
 *   (ParameterVersionNotFound for a version that does not, or no longer, exists).
 * - PutParameter: a type is required to create; writing an existing name without `Overwrite`
 *   answers ParameterAlreadyExists; `Tags` with `Overwrite` answers ValidationException; a
 *   Standard value holds at most 4 KB, an Advanced one 8 KB (Intelligent-Tiering picks);
 *   an Advanced parameter cannot go back to Standard; no `{{...}}` in a value; a description at
 *   most 1024 characters; `AllowedPattern` is enforced (ParameterPatternMismatchException);
 *   10,000 Standard parameters at most (ParameterLimitExceeded). Every write adds a version;
 *   only the 100 newest are kept (the oldest is deleted; labels are not modelled).
 * - SecureString values come back encrypted unless `WithDecryption`.
 * - GetParametersByPath: 1 to 10 results a page, in no documented order (here a fixed hash
 *   order, so code that assumes sorted names fails), and "best effort": the first page of a
 *   listing holds at most half of MaxResults, so code that stops at a short page fails. Its
 *   NextToken is valid only for the same request; ParameterFilters: Type only (the keys AWS
 *   refuses answer InvalidFilterKey).
 * - GetParameterHistory: oldest first, 1 to 50 a page (default 50), with NextToken.
 * Every call goes to the call log as `ssm:<Operation>` on the parameter's ARN
 * (`arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`; for
 * GetParametersByPath, the path's).
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsCallLog } from './aws-call-log';
import { Authorizer } from './local-s3';
import { answerAwsJson, AwsJsonError } from './stand-ins/aws-json';
import { AwsScope } from './stand-ins/bedrock-arns';
import { FaultLength, FaultPlan } from './stand-ins/fault-plan';
import { RunningServer, StandInRequest, StandInResponse, startServer } from './stand-ins/http-server';

/** The operations LocalSsm answers. */
export type SsmOperation = 'PutParameter' | 'GetParameter' | 'GetParametersByPath' | 'GetParameterHistory';

const OPERATIONS: readonly SsmOperation[] = ['PutParameter', 'GetParameter', 'GetParametersByPath', 'GetParameterHistory'];

/** Largest Standard-tier value, in bytes (4 KB). */
export const MAX_STANDARD_VALUE_BYTES = 4096;
/** Largest Advanced-tier value, in bytes (8 KB). */
export const MAX_ADVANCED_VALUE_BYTES = 8192;
/** Versions Parameter Store keeps of a parameter; a newer write deletes the oldest. */
export const MAX_PARAMETER_VERSIONS = 100;
/** Standard parameters an account may have in a Region. */
export const MAX_STANDARD_PARAMETERS = 10_000;
/** The longest name a caller may give, counting the ARN before it. */
export const MAX_NAME_WITH_ARN_PREFIX = 1011;

export type ParameterTier = 'Standard' | 'Advanced';

/** One stored version of a parameter. */
export interface ParameterVersion {
  readonly name: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly value: string;
  readonly version: number;
  readonly tier: ParameterTier;
  readonly lastModifiedDate: Date;
  readonly description?: string;
  readonly allowedPattern?: string;
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
  /** Standard parameters the account may have; default 10,000 (the Parameter Store quota). */
  readonly maxStandardParameters?: number;
}

const ERROR_STATUS: Readonly<Record<string, number>> = { InternalServerError: 500 };

function ssmError(type: string, message: string): AwsJsonError {
  return new AwsJsonError(type, message, ERROR_STATUS[type] ?? 400);
}

function validation(message: string): AwsJsonError {
  return ssmError('ValidationException', message);
}

/** The ARN IAM evaluates for a parameter name or path. */
export function parameterArn(scope: AwsScope, name: string): string {
  return `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter/${name.replace(/^\//, '')}`;
}

/** What a NextToken stands for: the request it continues and the last item returned. */
interface PageCursor {
  readonly request: string;
  readonly after: string;
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
  private server!: RunningServer;
  private readonly parameters = new Map<string, ParameterVersion[]>();
  private readonly pageCursors = new Map<string, PageCursor>();
  private readonly faults: FaultPlan;
  private authorizer?: Authorizer;
  private readonly maxStandardParameters: number;

  private constructor(options: LocalSsmOptions) {
    this.maxStandardParameters = options.maxStandardParameters ?? MAX_STANDARD_PARAMETERS;
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

  /** Every version still kept of a parameter, oldest first. */
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

  private handle(req: StandInRequest, res: StandInResponse): Promise<void> {
    return answerAwsJson(
      req,
      res,
      { standIn: 'LocalSsm', sourceFile: 'test/support/local-ssm.ts', targetPrefix: 'AmazonSSM', jsonVersion: '1.1', iamPrefix: 'ssm', operations: OPERATIONS, callLog: this.callLog },
      {
        resourcesOf: (operation, body) => {
          const named = String((operation === 'GetParametersByPath' ? body.Path : body.Name) ?? '').trim();
          const name = operation === 'GetParameter' ? this.parseReference(named).name : named;
          return [parameterArn(this.scope, name)];
        },
        faults: this.faults,
        authorizer: this.authorizer,
        answer: (operation, body, principal) => this.dispatch(operation, body, principal),
      },
    );
  }

  private dispatch(operation: SsmOperation, body: Record<string, unknown>, principal: string): unknown {
    switch (operation) {
      case 'PutParameter':
        return this.put(body, principal);
      case 'GetParameter':
        return this.get(body);
      case 'GetParameterHistory':
        return this.getHistory(body);
      case 'GetParametersByPath':
        return this.byPath(body);
    }
  }

  private notFound(name: string): never {
    throw ssmError('ParameterNotFound', `Parameter ${name} not found.`);
  }

  /** The rules every name or path obeys, to create or to reference it; returns it without surrounding spaces. */
  private checkReference(raw: unknown, field: 'name' | 'path'): string {
    if (typeof raw !== 'string') throw validation(`1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
    if (raw.length < 1 || raw.length > 2048) throw validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length between 1 and 2048`);
    // "The service removes any spaces specified for the beginning or end of a parameter name."
    const name = raw.trim();
    if (/\s/.test(name)) throw validation(`Parameter ${field} '${raw}' contains spaces; parameter names can't contain spaces.`);
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) throw validation(`Parameter ${field} '${name}' may contain only letters, digits and _.-/ characters.`);
    if (name.includes('/') && !name.startsWith('/')) throw validation(`Parameter ${field} '${name}' is part of a hierarchy and must begin with '/' (a fully qualified name).`);
    return name;
  }

  /** The rules of a name PutParameter creates or updates. */
  private checkNewName(raw: unknown): string {
    const name = this.checkReference(raw, 'name');
    // The documentation names no error; a hierarchy under /aws is AWS's own namespace (AccessDeniedException, as moto records), others are invalid names.
    if (/^\/aws/i.test(name) && name.split('/').length > 2) throw ssmError('AccessDeniedException', `No access to reserved parameter name: ${name}.`);
    if (/^\/?(aws|ssm)/i.test(name)) throw validation(`Parameter name '${name}': can't be prefixed with "aws" or "ssm" (case-insensitive).`);
    const arnPrefix = `arn:aws:ssm:${this.scope.region}:${this.scope.accountId}:parameter/`;
    if (arnPrefix.length + name.length > MAX_NAME_WITH_ARN_PREFIX) {
      throw validation(`Parameter name '${name.slice(0, 40)}...' is ${name.length} characters; with the ${arnPrefix.length} characters of '${arnPrefix}' it must be at most ${MAX_NAME_WITH_ARN_PREFIX}.`);
    }
    if (name.split('/').filter(Boolean).length > 15) throw ssmError('HierarchyLevelLimitExceededException', `Parameter name '${name}' has more than 15 levels; a hierarchy can have at most 15 levels.`);
    return name;
  }

  /** GetParameter's Name: a name or this account's parameter ARN, with an optional `:version` or `:label` selector. */
  private parseReference(raw: string): { name: string; selector?: string } {
    const arnPrefix = `arn:aws:ssm:${this.scope.region}:${this.scope.accountId}:parameter/`;
    let text = raw;
    let fromArn = false;
    if (text.startsWith(arnPrefix)) {
      text = text.slice(arnPrefix.length);
      fromArn = true;
    }
    const colon = text.indexOf(':');
    const name = colon < 0 ? text : text.slice(0, colon);
    const selector = colon < 0 ? undefined : text.slice(colon + 1);
    // An ARN drops the name's leading slash: parameter/a/b is /a/b.
    return { name: fromArn && !this.parameters.has(name) ? `/${name}` : name, selector };
  }

  private get(body: Record<string, unknown>): unknown {
    const raw = typeof body.Name === 'string' ? body.Name.trim() : body.Name;
    const { name, selector } = typeof raw === 'string' ? this.parseReference(raw) : { name: raw, selector: undefined };
    this.checkReference(name, 'name');
    const versions = this.parameters.get(name as string) ?? this.notFound(name as string);
    let found = versions[versions.length - 1];
    if (selector !== undefined) {
      if (!/^\d+$/.test(selector)) {
        // Labels are not modelled (LabelParameterVersion is not served): no version carries one.
        if (!/^[a-zA-Z0-9_.-]{1,100}$/.test(selector)) throw validation(`Parameter label '${selector}' is not valid.`);
        this.notFound(`${String(name)}:${selector}`);
      }
      const version = versions.find((v) => v.version === Number(selector));
      // Also a version deleted because 100 newer ones exist.
      if (!version) throw ssmError('ParameterVersionNotFound', `Systems Manager could not find version ${selector} of ${String(name)}. Verify the version and try again.`);
      found = version;
    }
    return { Parameter: { ...this.describe(found, body.WithDecryption === true), ARN: parameterArn(this.scope, found.name), ...(selector !== undefined ? { Selector: `:${selector}` } : {}) } };
  }

  private put(body: Record<string, unknown>, principal: string): unknown {
    const name = this.checkNewName(body.Name);
    const value = body.Value;
    if (typeof value !== 'string' || value.length < 1) throw validation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
    if (/\{\{[\s\S]*\}\}/.test(value)) throw validation('Parameter value can\'t nest another parameter. Do not use "{{}}" in the value.');
    if (body.Description !== undefined && (typeof body.Description !== 'string' || body.Description.length > 1024)) {
      throw validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024");
    }
    if (body.Tags !== undefined && body.Overwrite === true) throw validation('Invalid request: tags and overwrite can\'t be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.');
    for (const unmodelled of ['Policies', 'KeyId'] as const) {
      if (body[unmodelled] !== undefined) throw validation(`LocalSsm does not model PutParameter's ${unmodelled}; add it to test/support/local-ssm.ts.`);
    }
    if (body.DataType !== undefined && body.DataType !== 'text') throw validation(`LocalSsm models only DataType 'text', not '${String(body.DataType)}'; add it to test/support/local-ssm.ts.`);
    const existing = this.parameters.get(name);
    const current = existing?.[existing.length - 1];
    if (current && body.Overwrite !== true) throw ssmError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    if (!current && body.Type === undefined) throw validation('A parameter type is required when you create a parameter.');
    const type = (body.Type ?? current!.type) as ParameterVersion['type'];
    if (!['String', 'StringList', 'SecureString'].includes(type)) {
      throw validation(`1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`);
    }
    const tier = this.tierOf(body.Tier, value, name, current);
    const allowedPattern = typeof body.AllowedPattern === 'string' ? body.AllowedPattern : current?.allowedPattern;
    if (allowedPattern !== undefined && !new RegExp(allowedPattern).test(value)) {
      throw ssmError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${allowedPattern}`);
    }
    if (!current && tier === 'Standard' && this.standardCount() >= this.maxStandardParameters) {
      throw ssmError('ParameterLimitExceeded', `You have reached the limit of ${this.maxStandardParameters} standard parameters. Delete parameters, or create this one in the advanced tier.`);
    }
    const version = (current?.version ?? 0) + 1;
    const description = typeof body.Description === 'string' ? body.Description : current?.description;
    const stored: ParameterVersion = { name, type, value, version, tier, lastModifiedDate: new Date(), description, allowedPattern, principal };
    // Parameter Store keeps the 100 newest versions and deletes the oldest.
    this.parameters.set(name, [...(existing ?? []), stored].slice(-MAX_PARAMETER_VERSIONS));
    return { Version: version, Tier: tier };
  }

  /** The tier a write ends in, or the error AWS answers. */
  private tierOf(requested: unknown, value: string, name: string, current: ParameterVersion | undefined): ParameterTier {
    if (requested !== undefined && !['Standard', 'Advanced', 'Intelligent-Tiering'].includes(String(requested))) {
      throw validation(`1 validation error detected: Value '${String(requested)}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]`);
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_ADVANCED_VALUE_BYTES) throw validation(`Parameter value is ${bytes} bytes; an advanced parameter value holds at most ${MAX_ADVANCED_VALUE_BYTES} (8 KB).`);
    // No tier given: the account's default tier (Standard here), except that an Advanced parameter stays Advanced.
    const wanted = requested === undefined ? (current?.tier ?? 'Standard') : requested === 'Intelligent-Tiering' ? (bytes > MAX_STANDARD_VALUE_BYTES || current?.tier === 'Advanced' ? 'Advanced' : 'Standard') : (requested as ParameterTier);
    if (wanted === 'Standard' && current?.tier === 'Advanced') {
      throw validation(`Parameter ${name} is an advanced parameter; it can't be reverted to the standard tier. Delete it and create it again as a standard parameter.`);
    }
    if (wanted === 'Standard' && bytes > MAX_STANDARD_VALUE_BYTES) {
      throw validation(`Standard tier parameters support a maximum parameter value of ${MAX_STANDARD_VALUE_BYTES} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.`);
    }
    return wanted;
  }

  private standardCount(): number {
    let count = 0;
    for (const versions of this.parameters.values()) if (versions[versions.length - 1].tier === 'Standard') count++;
    return count;
  }

  /** The fields a Parameter and a ParameterHistory share; a SecureString value stays encrypted without WithDecryption. */
  private describe(p: ParameterVersion, withDecryption: boolean): Record<string, unknown> {
    const value = p.type === 'SecureString' && !withDecryption ? this.ciphertext(p) : p.value;
    return { Name: p.name, Type: p.type, Value: value, Version: p.version, LastModifiedDate: p.lastModifiedDate.getTime() / 1000, DataType: 'text' };
  }

  /** A stand-in for KMS ciphertext: opaque, stable for a version, never the value. */
  private ciphertext(p: ParameterVersion): string {
    return `AQICAH${createHash('sha256').update(`${p.name}:${p.version}:${p.value}`).digest('base64')}`;
  }

  private getHistory(body: Record<string, unknown>): unknown {
    const name = this.checkReference(body.Name, 'name');
    const max = this.maxResults(body.MaxResults, 50, 50);
    const versions = this.parameters.get(name) ?? this.notFound(name);
    const request = JSON.stringify(['history', name]);
    const after = this.cursorOf(body.NextToken, request);
    const rest = after === undefined ? versions : versions.filter((v) => v.version > Number(after));
    const page = rest.slice(0, max);
    const next = rest.length > page.length ? this.issueToken(request, String(page[page.length - 1].version)) : undefined;
    const withDecryption = body.WithDecryption === true;
    return {
      Parameters: page.map((v) => ({ ...this.describe(v, withDecryption), Tier: v.tier, ...(v.description !== undefined ? { Description: v.description } : {}) })),
      NextToken: next,
    };
  }

  private maxResults(raw: unknown, limit: number, byDefault: number): number {
    const max = raw === undefined ? byDefault : Number(raw);
    if (!Number.isInteger(max) || max < 1 || max > limit) {
      throw validation(`1 validation error detected: Value '${String(raw)}' at 'maxResults' failed to satisfy constraint: Member must have value ${max < 1 ? 'greater than or equal to 1' : `less than or equal to ${limit}`}`);
    }
    return max;
  }

  /** Where a NextToken continues from; InvalidNextToken for a token this request was not given. */
  private cursorOf(token: unknown, request: string): string | undefined {
    if (token === undefined) return undefined;
    const cursor = typeof token === 'string' ? this.pageCursors.get(token) : undefined;
    if (!cursor || cursor.request !== request) throw ssmError('InvalidNextToken', 'The specified token is not valid.');
    return cursor.after;
  }

  private issueToken(request: string, after: string): string {
    const token = randomBytes(32).toString('base64');
    this.pageCursors.set(token, { request, after });
    return token;
  }

  private byPath(body: Record<string, unknown>): unknown {
    const path = this.checkReference(body.Path, 'path');
    if (!path.startsWith('/')) throw validation(`Path '${path}' is not a hierarchy: hierarchies start with a forward slash (/).`);
    const max = this.maxResults(body.MaxResults, 10, 10);
    const typeFilter = this.typeFilter(body.ParameterFilters);
    const recursive = body.Recursive === true;
    const base = path.endsWith('/') ? path : `${path}/`;
    const request = JSON.stringify(['by-path', base, recursive, body.ParameterFilters ?? null]);
    const after = this.cursorOf(body.NextToken, request);
    const matching = [...this.parameters.keys()]
      .filter((n) => n.startsWith(base) && (recursive || !n.slice(base.length).includes('/')))
      .filter((n) => !typeFilter || typeFilter.includes(this.parameter(n)!.type))
      .map((n) => ({ name: n, key: listingKey(n) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const rest = after === undefined ? matching : matching.filter((m) => m.key > after);
    // Best effort: AWS may return fewer than MaxResults with a NextToken; the first page does.
    const pageSize = after === undefined ? Math.ceil(max / 2) : max;
    const page = rest.slice(0, pageSize);
    const next = rest.length > page.length ? this.issueToken(request, page[page.length - 1].key) : undefined;
    const withDecryption = body.WithDecryption === true;
    return { Parameters: page.map(({ name }) => ({ ...this.describe(this.parameter(name)!, withDecryption), ARN: parameterArn(this.scope, name) })), NextToken: next };
  }

  /** The Type values of GetParametersByPath's filters, or undefined for none. */
  private typeFilter(filters: unknown): string[] | undefined {
    if (filters === undefined) return undefined;
    if (!Array.isArray(filters)) throw validation('ParameterFilters must be a list.');
    let types: string[] | undefined;
    for (const filter of filters as Array<Record<string, unknown>>) {
      const key = String(filter?.Key ?? '');
      if (['Name', 'Path', 'Tier', 'DataType'].includes(key) || key.startsWith('tag:')) {
        throw ssmError('InvalidFilterKey', `The following filter key is not valid for GetParametersByPath: ${key}. Valid filter keys include: [Type, KeyId, Label].`);
      }
      if (key !== 'Type') throw validation(`LocalSsm does not model the ${key} filter of GetParametersByPath; add it to test/support/local-ssm.ts.`);
      if ((filter.Option ?? 'Equals') !== 'Equals') throw ssmError('InvalidFilterOption', `The following filter option is not valid: ${String(filter.Option)}. Valid options include: [Equals].`);
      const values = Array.isArray(filter.Values) ? (filter.Values as unknown[]).map(String) : [];
      const bad = values.find((v) => !['String', 'StringList', 'SecureString'].includes(v));
      if (values.length === 0 || bad !== undefined) throw ssmError('InvalidFilterValue', `The following filter value is not valid: ${bad ?? '(none)'}. Valid values include: [String, StringList, SecureString].`);
      types = types ? types.filter((t) => values.includes(t)) : values;
    }
    return types;
  }
}

/** A parameter's place in a listing: a hash of its name, so listings come in no name order (AWS promises none) yet the same every run. */
function listingKey(name: string): string {
  return `${createHash('sha1').update(name).digest('hex')}:${name}`;
}

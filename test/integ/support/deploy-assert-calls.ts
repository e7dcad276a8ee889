/**
 * Reads the integ-tests API calls (custom resources `Custom::DeployAssert@SdkCall<Service><api>`)
 * back out of a synthesized assertion stack: what each call sends, what it expects, and what
 * it waits for. integ-tests stores every parameter as JSON text; literal ones are decoded here,
 * those that hold a CloudFormation reference are left as they are.
 */

/** One resource of a template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string[];
}

/** One integ-tests API call. */
export interface DeployAssertCall {
  readonly logicalId: string;
  readonly service: string;
  readonly api: string;
  /** Parameters: decoded when literal, else the CloudFormation expression. */
  readonly parameters: Record<string, unknown>;
  /** The expected-result matcher, e.g. { $Exact: 'FAILED' }, if the call asserts. */
  readonly expected?: unknown;
  /** Where in the response the assertion looks. */
  readonly actualPath?: string;
  /** Response fields the call returns (and others may read with Fn::GetAtt). */
  readonly outputPaths: readonly string[];
  /** True when the call polls (waitForAssertions) until its assertion holds. */
  readonly polls: boolean;
  readonly dependsOn: readonly string[];
}

const CALL_TYPE = /^Custom::DeployAssert@SdkCall/;

function decode(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Every API call of the template, in template order. */
export function deployAssertCalls(resources: Record<string, TemplateResource>): DeployAssertCall[] {
  return Object.entries(resources)
    .filter(([, resource]) => CALL_TYPE.test(resource.Type))
    .map(([logicalId, resource]) => {
      const p = resource.Properties ?? {};
      const parameters = Object.fromEntries(Object.entries((p.parameters as Record<string, unknown>) ?? {}).map(([k, v]) => [k, decode(v)]));
      return {
        logicalId,
        service: String(p.service),
        api: String(p.api),
        parameters,
        expected: p.expected === undefined ? undefined : decode(p.expected),
        actualPath: p.actualPath as string | undefined,
        outputPaths: (p.outputPaths as string[] | undefined) ?? [],
        polls: p.stateMachineArn !== undefined,
        dependsOn: resource.DependsOn ?? [],
      };
    });
}

/** The calls of one API, e.g. callsOf(calls, 'S3', 'putObject'). */
export function callsOf(calls: readonly DeployAssertCall[], service: string, api: string): DeployAssertCall[] {
  return calls.filter((c) => c.service === service && c.api === api);
}

/** The CloudFormation reference to a response field of a call: { Fn::GetAtt: [id, apiCallResponse.<path>] } inside a parameter. */
export function responseReference(call: DeployAssertCall, path: string): unknown {
  return { 'Fn::Join': ['', ['"', { 'Fn::GetAtt': [call.logicalId, `apiCallResponse.${path}`] }, '"']] };
}

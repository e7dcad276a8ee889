/**
 * Deterministic stand-in names for every resource of a template: what `Ref` and
 * `Fn::GetAtt` resolve to when the runner executes the template locally. Buckets get lowercase
 * names derived from their logical ids (and are created in LocalS3 under those names); other
 * resources get plausible ARNs with the logical id as their name, so a call log or an error
 * message names the resource the reader can find in the template. Pure.
 */
import { CfnResource, CfnTemplateJson } from './cfn-template';

/** Account, region and partition the fake ARNs use (those of the LocalAws instance). */
export interface AwsScope {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
}

/**
 * What a logical id resolves to. Compatible with iam-policy.ts's PhysicalResource, plus the
 * resource's other attributes for `Fn::GetAtt`.
 */
export interface PhysicalResource {
  /** Value of `{Ref: id}`. */
  readonly ref: string;
  /** Value of `{Fn::GetAtt: [id, 'Arn']}`, where the type has one. */
  readonly arn?: string;
  /** Every other attribute `Fn::GetAtt` may ask for (including `Arn`). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** Longest S3 bucket name. */
const MAX_BUCKET_NAME = 63;

/**
 * The LocalS3 name of a bucket: the template's literal BucketName, or the logical id in
 * lowercase (CDK logical ids are letters and digits, so the result is a valid bucket name),
 * shortened to 63 characters keeping the hash at the end.
 */
export function localBucketName(logicalId: string, resource?: CfnResource): string {
  const literal = resource?.Properties?.BucketName;
  if (typeof literal === 'string') return literal;
  const lower = logicalId.toLowerCase().replace(/[^a-z0-9-]/g, '');
  const name = lower.length > MAX_BUCKET_NAME ? lower.slice(0, MAX_BUCKET_NAME - 9) + '-' + lower.slice(-8) : lower;
  return name.length >= 3 ? name : `${name}-bucket`;
}

/** Whether the template turns versioning on for a bucket. */
export function isVersionedBucket(resource: CfnResource): boolean {
  const versioning = resource.Properties?.VersioningConfiguration as { Status?: unknown } | undefined;
  return versioning?.Status === 'Enabled';
}

/** The fake ARN of an IAM role with this name. */
export function roleArnOf(scope: AwsScope, roleName: string): string {
  return `arn:${scope.partition}:iam::${scope.accountId}:role/${roleName}`;
}

/** The fake ARN of a Lambda function with this name. */
export function functionArnOf(scope: AwsScope, functionName: string): string {
  return `arn:${scope.partition}:lambda:${scope.region}:${scope.accountId}:function:${functionName}`;
}

/** The fake ARN of a state machine with this name. */
export function stateMachineArnOf(scope: AwsScope, name: string): string {
  return `arn:${scope.partition}:states:${scope.region}:${scope.accountId}:stateMachine:${name}`;
}

/** The ARN of an execution of a state machine, as Step Functions forms it. */
export function executionArnOf(scope: AwsScope, stateMachineName: string, executionName: string): string {
  return `arn:${scope.partition}:states:${scope.region}:${scope.accountId}:execution:${stateMachineName}:${executionName}`;
}

/** The literal name a template gives a resource in `property`, when it is a plain string. */
function literalName(resource: CfnResource, property: string): string | undefined {
  const value = resource.Properties?.[property];
  return typeof value === 'string' ? value : undefined;
}

/** A stable 8-hex-digit id derived from a string (for key ids and similar fields). */
function stableHex(text: string, length = 8): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  let out = '';
  while (out.length < length) {
    hash = Math.imul(hash ^ out.length, 0x01000193) >>> 0;
    out += hash.toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}

/** The physical names of one resource. */
export function physicalResourceOf(logicalId: string, resource: CfnResource, scope: AwsScope): PhysicalResource {
  const { accountId: account, region, partition } = scope;
  const arnPrefix = (service: string, withRegion = true) => `arn:${partition}:${service}:${withRegion ? region : ''}:${account}`;
  const make = (ref: string, arn: string | undefined, attributes: Record<string, string> = {}): PhysicalResource => ({
    ref,
    arn,
    attributes: arn ? { Arn: arn, ...attributes } : attributes,
  });

  switch (resource.Type) {
    case 'AWS::S3::Bucket': {
      const name = localBucketName(logicalId, resource);
      return make(name, `arn:${partition}:s3:::${name}`, {
        DomainName: `${name}.s3.amazonaws.com`,
        RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
        DualStackDomainName: `${name}.s3.dualstack.${region}.amazonaws.com`,
        WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
      });
    }
    case 'AWS::Lambda::Function': {
      const name = literalName(resource, 'FunctionName') ?? logicalId;
      return make(name, functionArnOf(scope, name));
    }
    case 'AWS::IAM::Role': {
      const name = literalName(resource, 'RoleName') ?? logicalId;
      return make(name, roleArnOf(scope, name), { RoleId: `AROA${stableHex(logicalId, 16).toUpperCase()}` });
    }
    case 'AWS::SNS::Topic': {
      const name = literalName(resource, 'TopicName') ?? logicalId;
      const arn = `${arnPrefix('sns')}:${name}`;
      return make(arn, arn, { TopicArn: arn, TopicName: name });
    }
    case 'AWS::SQS::Queue': {
      const name = literalName(resource, 'QueueName') ?? logicalId;
      const url = `https://sqs.${region}.amazonaws.com/${account}/${name}`;
      return make(url, `${arnPrefix('sqs')}:${name}`, { QueueName: name, QueueUrl: url });
    }
    case 'AWS::StepFunctions::StateMachine': {
      const name = literalName(resource, 'StateMachineName') ?? logicalId;
      const arn = stateMachineArnOf(scope, name);
      return make(arn, arn, { Name: name, StateMachineRevisionId: arn });
    }
    case 'AWS::Events::Rule': {
      const name = literalName(resource, 'Name') ?? logicalId;
      const bus = literalName(resource, 'EventBusName');
      const arn = `${arnPrefix('events')}:rule/${bus && bus !== 'default' ? `${bus}/` : ''}${name}`;
      // Ref of a rule on a custom bus is `bus|name`.
      return make(bus && bus !== 'default' ? `${bus}|${name}` : name, arn);
    }
    case 'AWS::Events::EventBus': {
      const name = literalName(resource, 'Name') ?? logicalId;
      const arn = `${arnPrefix('events')}:event-bus/${name}`;
      return make(name, arn, { Name: name });
    }
    case 'AWS::Logs::LogGroup': {
      const name = literalName(resource, 'LogGroupName') ?? `/local/${logicalId}`;
      return make(name, `${arnPrefix('logs')}:log-group:${name}:*`);
    }
    case 'AWS::KMS::Key': {
      const id = `${stableHex(logicalId)}-${stableHex(logicalId + '1', 4)}-${stableHex(logicalId + '2', 4)}-${stableHex(logicalId + '3', 4)}-${stableHex(logicalId + '4', 12)}`;
      return make(id, `${arnPrefix('kms')}:key/${id}`, { KeyId: id });
    }
    case 'AWS::KMS::Alias': {
      const name = literalName(resource, 'AliasName') ?? `alias/${logicalId}`;
      return make(name, `${arnPrefix('kms')}:${name}`);
    }
    case 'AWS::DynamoDB::Table': {
      const name = literalName(resource, 'TableName') ?? logicalId;
      const arn = `${arnPrefix('dynamodb')}:table/${name}`;
      return make(name, arn, { StreamArn: `${arn}/stream/1970-01-01T00:00:00.000` });
    }
    case 'AWS::IAM::ManagedPolicy': {
      const arn = `arn:${partition}:iam::${account}:policy/${literalName(resource, 'ManagedPolicyName') ?? logicalId}`;
      return make(arn, arn, { PolicyArn: arn });
    }
    default: {
      // AWS::<Service>::<Kind>: an ARN of the usual shape, with the logical id as the name.
      const [, service = 'unknown', kind = 'resource'] = resource.Type.split('::');
      return make(logicalId, `${arnPrefix(service.toLowerCase())}:${kind.toLowerCase()}/${logicalId}`, { Name: logicalId });
    }
  }
}

/** The physical names of every resource in a template, by logical id. */
export function physicalResourcesOf(template: CfnTemplateJson, scope: AwsScope): Record<string, PhysicalResource> {
  const out: Record<string, PhysicalResource> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) out[logicalId] = physicalResourceOf(logicalId, resource, scope);
  return out;
}

import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledgeWildcardResource } from '../core/nag';
import { WorkflowFunction } from './workflow-function';

/**
 * Adds one statement to a function's role. A resource with a wildcard needs the reason why it
 * cannot be narrower; the reason becomes the cdk-nag acknowledgement of exactly that finding.
 */
export function allow(fn: WorkflowFunction, sid: string, actions: string[], resources: string[], wildcardReason?: string): void {
  fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
  const stack = Stack.of(fn);
  const wildcards = resources.filter((r) => JSON.stringify(stack.resolve(r)).includes('*'));
  if (wildcards.length > 0 && !wildcardReason) {
    throw new Error(`Statement ${sid} of ${fn.node.path} has a wildcard resource; give the reason it cannot be narrower`);
  }
  for (const resource of wildcards) acknowledgeWildcardResource(fn.role, resource, wildcardReason!);
}

/** ARN of a Bedrock resource in the stack's partition and region. */
export function bedrockArn(scope: Stack, resource: string, name: string, account: string = scope.account): string {
  return `arn:${scope.partition}:bedrock:${scope.region}:${account}:${resource}/${name}`;
}

/**
 * What bedrock:InvokeModel needs to reach the base model: the configured model id (an inference
 * profile id or ARN) with the Llama 3.2 foundation models it may route to, or, when none is
 * configured, the US inference profile of any Llama 3.2 size and the foundation models in the
 * regions that profile routes to.
 */
export function baseModelInvokeResources(scope: Stack, baseModelId?: string): string[] {
  if (baseModelId) {
    return [baseModelId.startsWith('arn:') ? baseModelId : bedrockArn(scope, 'inference-profile', baseModelId), `arn:${scope.partition}:bedrock:*::foundation-model/meta.llama3-2-*`];
  }
  return [bedrockArn(scope, 'inference-profile', 'us.meta.llama3-2-*'), ...['us-east-1', 'us-east-2', 'us-west-2'].map((r) => `arn:${scope.partition}:bedrock:${r}::foundation-model/meta.llama3-2-*`)];
}

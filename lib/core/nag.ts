/**
 * Acknowledging cdk-nag findings precisely. cdk-nag names an IAM wildcard finding after the
 * resource as it appears in the template (`<LogicalId.Arn>/*`), so the id is computed from
 * the same resource expression the grant used, never typed by hand.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Acknowledges `AwsSolutions-IAM5[Resource::<resource>]` on `scope` with a reason. */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flattened = flattenReference(Stack.of(scope).resolve(resource));
  acknowledgeFinding(scope, `AwsSolutions-IAM5[Resource::${flattened}]`, reason);
}

/** Acknowledges `AwsSolutions-IAM5[Action::<action>]` on `scope` with a reason. */
export function acknowledgeWildcardAction(scope: IConstruct, action: string, reason: string): void {
  acknowledgeFinding(scope, `AwsSolutions-IAM5[Action::${action}]`, reason);
}

/**
 * `Validations.of(scope).acknowledge({ id, reason })`, also for finding ids that older
 * aws-cdk-lib versions refuse; use it on your own roles for findings such as those the grant
 * helpers cause (`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:...]`).
 * Up to at least 2.257 (this library's lowest supported version), `acknowledge` throws
 * InvalidValidationId for an id with more than one `::`, and every finding on an ARN built with
 * `${AWS::Partition}` has two (`...[Resource::arn:<AWS::Partition>:...]`). Such an id is
 * recorded directly, the way `acknowledge` records any other: as an entry under
 * `Validations.ACKNOWLEDGED_RULES_METADATA_KEY`, the metadata cdk-nag reads. It is never
 * offered to `acknowledge` first: aws-cdk-lib writes the code of every error it constructs to
 * the CLI's `cdk.out/error.txt`, even one that is caught, so a clean synth would leave an error
 * file behind.
 */
export function acknowledgeFinding(scope: IConstruct, id: string, reason: string): void {
  if (id.split('::').length > 2) {
    const key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
    const previous = [...scope.node.metadata].reverse().find((entry) => entry.type === key)?.data as Record<string, string> | undefined;
    scope.node.addMetadata(key, { ...previous, [id]: reason });
    return;
  }
  // Any other id goes to aws-cdk-lib, which refuses malformed ones (e.g. an empty prefix).
  Validations.of(scope).acknowledge({ id, reason });
}

/** Renders a resolved CloudFormation value the way cdk-nag names findings. */
function flattenReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  const value = node as Record<string, unknown>;
  if (value['Fn::Join']) {
    const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
    return items.map(flattenReference).join(delimiter);
  }
  if (value['Fn::Sub']) return flattenReference(value['Fn::Sub']);
  if (value['Fn::GetAtt']) {
    const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
  }
  if (value['Fn::ImportValue']) return flattenReference(value['Fn::ImportValue']);
  if (value.Ref) return `<${flattenReference(value.Ref)}>`;
  return JSON.stringify(node);
}

/**
 * Acknowledging findings of rule packs such as cdk-nag on your own constructs, for finding ids
 * that aws-cdk-lib's `Validations.of(scope).acknowledge()` refuses.
 */
export class NagFindings {
  /**
   * Acknowledges finding `id` on `scope` with a reason: `Validations.of(scope).acknowledge({ id, reason })`,
   * also for ids with more than one `::` (every finding on an ARN built with `${AWS::Partition}`,
   * e.g. `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:...]`), which aws-cdk-lib up to at
   * least 2.257 refuses with InvalidValidationId. Such an id is recorded as the same metadata
   * `acknowledge` writes and cdk-nag reads.
   */
  public static acknowledge(scope: IConstruct, id: string, reason: string): void {
    acknowledgeFinding(scope, id, reason);
  }

  private constructor() {}
}

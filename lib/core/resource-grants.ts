/**
 * `iam.Grant.addToPrincipalOrResource` that keeps the grant's conditions on the resource-policy
 * statement too. aws-cdk-lib 2.257 (this library's lowest supported version) leaves them off
 * that statement, so a grantee in another account would get the action without the condition
 * (e.g. ListBucket on every key instead of one prefix); later versions keep them.
 */
import * as iam from 'aws-cdk-lib/aws-iam';

export function grantOnPrincipalOrResource(options: iam.GrantWithResourceOptions): iam.Grant {
  const grant = iam.Grant.addToPrincipalOrResource(options);
  const statement = grant.resourceStatement;
  if (statement && options.conditions && Object.keys(statement.conditions as object).length === 0) {
    statement.addConditions(options.conditions);
  }
  return grant;
}

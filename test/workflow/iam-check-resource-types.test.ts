/**
 * The local runner's IAM check for actions AWS defines no resource type for (Step Functions'
 * SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat, per the Service Authorization Reference):
 * AWS evaluates them against "*", so a grant naming the state machine denies, as in AWS.
 */
import { checkIam } from '../support/local-workflow/iam-check';
import { CfnResolver } from '../support/local-workflow/cfn-resolver';
import { CfnTemplateJson } from '../support/local-workflow/cfn-template';
import { AwsCallRecord } from '../support/aws-call-log';

const scope = { accountId: '111122223333', region: 'us-west-2', partition: 'aws' };
const machineArn = 'arn:aws:states:us-west-2:111122223333:stateMachine:Machine';

function check(resource: string, action = 'states:SendTaskSuccess') {
  const template = {
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: {} },
      Policy: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] } } },
    },
  } as unknown as CfnTemplateJson;
  // The stand-in records the token's state machine, as the call's resource.
  const call = { sequence: 1, requestId: 'r', service: 'states', operation: action.split(':')[1], action, resources: [machineArn], status: 200, principal: 'Fn' } as unknown as AwsCallRecord;
  return checkIam({ template, resolver: new CfnResolver(template, {}, scope), physical: {}, scope, calls: [call], principalRoles: new Map([['Fn', 'Role']]), rolesToReport: ['Role'] });
}

describe('IAM check: actions without a resource type', () => {
  test.each(['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'])('%s granted on the state machine ARN is denied; granted on * it is allowed', (action) => {
    expect(check(machineArn, action).denied).toEqual([expect.objectContaining({ action, resource: '*' })]);
    expect(check(`${machineArn}*`, action).denied).toHaveLength(1);
    expect(check('*', action).denied).toEqual([]);
  });

  test('an action with resource types is still checked against the call\'s resource', () => {
    expect(check(machineArn, 'states:StartExecution').denied).toEqual([]);
    expect(check('arn:aws:states:us-west-2:111122223333:stateMachine:Other', 'states:StartExecution').denied).toHaveLength(1);
  });
});

/**
 * Letting CloudWatch alarms publish to an encrypted SNS topic. An alarm action publishes as the
 * CloudWatch service principal, which needs both sns:Publish in the topic's access policy and
 * kms:GenerateDataKey* / kms:Decrypt in the key policy of the topic's key. The AWS managed key
 * alias/aws/sns cannot grant that (its policy cannot be edited), so a topic alarms notify needs
 * a customer managed key.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';

/** Where alarm access could be added: false for resources imported into the app. */
export interface AlarmAccessResult {
  /** Whether a statement was added to the topic's access policy (false for an imported topic). */
  readonly topicPolicyAdded: boolean;
  /** Whether a statement was added to the key's policy (false for an imported key or no key). */
  readonly keyPolicyAdded: boolean;
}

/**
 * Lets CloudWatch alarms of this account and region publish to `topic`, encrypted with `key`
 * (by default the topic's own key, when it has one). Both statements are confined to alarms of
 * the stack's account and region (aws:SourceAccount and aws:SourceArn), so no other account's
 * alarm can use the service principal as a confused deputy. Adds nothing to resources imported
 * into the app (they report false): their owner grants it. May be called before or after the
 * LlamaFinetuning whose alarms notify the topic is created: its check runs at synth.
 */
export function allowCloudWatchAlarmsToPublish(topic: sns.ITopic, topicKey?: kms.IKey): AlarmAccessResult {
  const key = topicKey ?? topic.masterKey;
  const stack = Stack.of(topic);
  const principal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
  const fromOwnAlarms = {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
  };
  const topicPolicy = topic.addToResourcePolicy(
    new iam.PolicyStatement({ sid: 'AllowCloudWatchAlarmsToPublish', principals: [principal], actions: ['sns:Publish'], resources: [topic.topicArn], conditions: fromOwnAlarms }),
  );
  const keyPolicy = key
    ? key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToUseTopicKey',
          principals: [principal],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          // In a key policy, "*" means this key.
          resources: ['*'],
          conditions: fromOwnAlarms,
        }),
        true,
      )
    : { statementAdded: false };
  if (topicPolicy.statementAdded && (!key || keyPolicy.statementAdded)) preparedTopics.add(topic);
  return { topicPolicyAdded: topicPolicy.statementAdded, keyPolicyAdded: keyPolicy.statementAdded };
}

/** Topics {@link allowCloudWatchAlarmsToPublish} fully prepared in this app. */
const preparedTopics = new WeakSet<sns.ITopic>();

/** Whether {@link allowCloudWatchAlarmsToPublish} gave CloudWatch alarms everything they need on `topic`. */
export function alarmsMayPublishTo(topic: sns.ITopic): boolean {
  return preparedTopics.has(topic);
}

/** Whether a topic key is the AWS managed alias/aws/sns, which CloudWatch alarms cannot use. */
export function isAwsManagedSnsKey(key: kms.IKey | undefined): boolean {
  if (!key) return false;
  const aliasName = (key as Partial<kms.IAlias>).aliasName;
  return aliasName === 'alias/aws/sns' || (typeof key.keyArn === 'string' && key.keyArn.includes('alias/aws/sns'));
}

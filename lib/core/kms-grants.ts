/**
 * KMS grants for code that reads and writes S3 objects encrypted with a customer managed key.
 * Exact actions only (CDK's grantEncrypt adds kms:ReEncrypt* and kms:GenerateDataKey*), and
 * only through S3 (kms:ViaService).
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';

/** What the grantee does with S3 objects under the key. */
export type S3KeyUse = 'read' | 'write' | 'read-write';

/** Lets `grantee` use `key` for S3 objects: Decrypt to read, GenerateDataKey to write. */
export function grantS3KeyUse(key: kms.IKey | undefined, grantee: iam.IGrantable, use: S3KeyUse): void {
  if (!key) return;
  const actions = [...(use !== 'write' ? ['kms:Decrypt'] : []), ...(use !== 'read' ? ['kms:GenerateDataKey'] : [])];
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: `UseBucketKeyTo${use === 'read' ? 'Read' : use === 'write' ? 'Write' : 'ReadWrite'}`,
      actions,
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(key).region}.amazonaws.com` } },
    }),
  );
}

/**
 * Lets `grantee` publish to `topic`: sns:Publish on the topic, and for an encrypted topic the
 * two KMS actions SNS needs (CDK's grantPublish adds kms:GenerateDataKey* instead).
 */
export function grantPublishExactly(topic: sns.ITopic, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'PublishOutcome', actions: ['sns:Publish'], resources: [topic.topicArn] }));
  const key = topic.masterKey;
  // The AWS managed key (alias/aws/sns) needs no grant: its key policy admits SNS callers of the account.
  if (key && !key.keyArn.includes('alias/aws/sns') && !(key instanceof kms.Alias)) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptOutcomeMessages',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${Stack.of(topic).region}.amazonaws.com` } },
      }),
    );
  }
}

import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { grantPublishExactly } from '../core/kms-grants';
import { requireAtMostOne } from '../core/props-validation';

/** Props of {@link RunNotifications}. */
export interface RunNotificationsProps {
  /**
   * An existing topic for run outcomes. Its encryption and access policy are the owner's
   * responsibility.
   * @default - an encrypted, SSL-only topic is created
   */
  readonly topic?: sns.ITopic;
  /**
   * The key that encrypts the created topic.
   * @default - the AWS managed key for SNS (alias/aws/sns)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Display name of the created topic (shown as the sender of e-mail notifications).
   * @default 'Llama fine-tuning runs'
   */
  readonly displayName?: string;
}

/** The SNS topic that receives one message per run outcome (success or failure). */
export class RunNotifications extends Construct {
  /** The topic. */
  public readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: RunNotificationsProps = {}) {
    super(scope, id);
    requireAtMostOne('RunNotifications', 'topic', props.topic, 'encryptionKey', props.encryptionKey, this);
    this.topic =
      props.topic ??
      new sns.Topic(this, 'Topic', {
        displayName: props.displayName ?? 'Llama fine-tuning runs',
        masterKey: props.encryptionKey ?? kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
        enforceSSL: true,
      });
  }

  /**
   * Lets `grantee` publish to the topic: sns:Publish on it and, for a customer managed key,
   * kms:GenerateDataKey and kms:Decrypt through SNS only (narrower than Topic.grantPublish).
   */
  public grantPublish(grantee: iam.IGrantable): void {
    grantPublishExactly(this.topic, grantee);
  }
}

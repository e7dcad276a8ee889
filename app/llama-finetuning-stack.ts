import { Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { EnvironmentSettings, removalPolicyOf } from './environment-settings';
// The library's public API only, as any app using the package would.
import { FinetuningOutputs, LlamaFinetuning, StorageEncryption } from '../lib';

/** Props of {@link LlamaFinetuningStack}. */
export interface LlamaFinetuningStackProps extends StackProps {
  /** Name of the environment (dev, prod, ...), used in tags. */
  readonly environmentName: string;
  /**
   * The environment's settings from cdk.json.
   * @default - all defaults
   */
  readonly settings?: EnvironmentSettings;
}

/**
 * This repository's own per-environment stack: one {@link LlamaFinetuning}, configured from an
 * environment's settings in cdk.json. Part of the repository's app (bin/app.ts), not of the
 * library's API: an app of your own creates LlamaFinetuning in its own stack.
 */
export class LlamaFinetuningStack extends Stack {
  /** The fine-tuning construct. */
  public readonly finetuning: LlamaFinetuning;
  /** The stack's outputs (DatasetBucketName, UploadCommand, ...), exported when the settings name an `outputsExportPrefix`. */
  public readonly outputs: FinetuningOutputs;

  constructor(scope: Construct, id: string, props: LlamaFinetuningStackProps) {
    super(scope, id, props);
    const settings = props.settings ?? {};
    Tags.of(this).add('llama-finetune:environment', props.environmentName);
    this.finetuning = new LlamaFinetuning(this, 'Finetuning', {
      environmentName: props.environmentName,
      evaluation: settings.evaluation,
      promotion: settings.promotion,
      modelRetention: settings.modelRetention && {
        enabled: settings.modelRetention.enabled,
        deleteRejectedAfter: settings.modelRetention.deleteRejectedAfterDays !== undefined ? Duration.days(settings.modelRetention.deleteRejectedAfterDays) : undefined,
        keepPromotedPerName: settings.modelRetention.keepPromotedPerName,
      },
      pollInterval: settings.pollIntervalMinutes ? Duration.minutes(settings.pollIntervalMinutes) : undefined,
      quotaWaitTimeout: settings.quotaWaitHours ? Duration.hours(settings.quotaWaitHours) : undefined,
      maxConcurrentJobs: settings.maxConcurrentJobs,
      jobWatchErrorBudget: settings.jobWatchErrorBudgetHours ? Duration.minutes(Math.round(settings.jobWatchErrorBudgetHours * 60)) : undefined,
      storage: { encryption: settings.kmsEncryption ? StorageEncryption.KMS : StorageEncryption.S3_MANAGED },
      removalPolicy: removalPolicyOf(settings),
      logRetention: settings.logRetentionDays as logs.RetentionDays | undefined,
      dataPrefix: settings.dataPrefix,
      defaultModel: settings.defaultModel,
      defaultHyperParameters: settings.defaultHyperParameters,
      executionTimeout: settings.executionTimeoutHours ? Duration.hours(settings.executionTimeoutHours) : undefined,
      modelPrices: settings.prices,
      costBudget: settings.budget,
      operations: settings.operations && {
        alarmsEnabled: settings.operations.alarmsEnabled,
        dashboardEnabled: settings.operations.dashboardEnabled,
        provisionedThroughputMaxAge:
          settings.operations.provisionedThroughputMaxAgeHours !== undefined ? Duration.minutes(Math.round(settings.operations.provisionedThroughputMaxAgeHours * 60)) : undefined,
      },
    });
    this.outputs = this.finetuning.addOutputs({ exportPrefix: settings.outputsExportPrefix });
    for (const address of settings.notificationEmails ?? []) {
      this.finetuning.notificationTopic.addSubscription(new subscriptions.EmailSubscription(address));
    }
  }
}

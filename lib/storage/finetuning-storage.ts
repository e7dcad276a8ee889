import { Duration, Names, RemovalPolicy, Resource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Annotations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { InvalidPropsError, requireAtMostOne } from '../core/props-validation';

/** How the buckets this construct creates are encrypted. */
export enum StorageEncryption {
  /** SSE-S3: AWS-owned keys, no key to manage, no KMS request cost. */
  S3_MANAGED = 'S3_MANAGED',
  /** SSE-KMS with a customer managed key (passed in, or created with rotation). */
  KMS = 'KMS',
}

/** Props of {@link FinetuningStorage}. */
export interface FinetuningStorageProps {
  /**
   * An existing bucket for datasets (training, validation, test JSONL, images, run requests).
   * It must send events to EventBridge for runs to start on upload; a bucket created in the
   * same app is switched to EventBridge notifications automatically.
   * @default - a bucket is created
   */
  readonly datasetBucket?: s3.IBucket;
  /**
   * Overrides for the dataset bucket this construct creates. Security settings
   * (encryption, public access, SSL, versioning, logging) are always applied.
   * Cannot be combined with `datasetBucket`.
   * @default - secure defaults only
   */
  readonly datasetBucketProps?: s3.BucketProps;
  /**
   * An existing bucket for artifacts (Bedrock job output, run records, reports).
   * @default - a bucket is created
   */
  readonly artifactsBucket?: s3.IBucket;
  /**
   * Overrides for the artifacts bucket this construct creates. Cannot be combined with
   * `artifactsBucket`.
   * @default - secure defaults only
   */
  readonly artifactsBucketProps?: s3.BucketProps;
  /**
   * An existing bucket that receives the server access logs of the buckets created here.
   * @default - a logging bucket is created (SSE-S3, as S3 server access logging requires)
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * Encryption of the buckets created here.
   * @default StorageEncryption.S3_MANAGED, or KMS when `encryptionKey` is given or a passed-in
   * bucket has its own key
   */
  readonly encryption?: StorageEncryption;
  /**
   * The customer managed key for `StorageEncryption.KMS`. Not needed for a passed-in bucket
   * that carries its key (`bucket.encryptionKey`): that key is used, for the grants and for the
   * buckets created here.
   * @default - the key of a passed-in bucket, if it has one; otherwise, with KMS encryption, a
   * key is created with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * States that the passed-in buckets whose encryption this app cannot see (imported with
   * `Bucket.fromBucketName`, `fromBucketArn` or `fromBucketAttributes` without
   * `encryptionKey`) are encrypted with S3 managed keys (SSE-S3, or SSE-KMS under the AWS
   * managed key `aws/s3`), so nothing needs a grant on a key. Without this statement or
   * `encryptionKey`, such a bucket fails synth: had it a customer managed key, every run would
   * fail at its first read with AccessDenied.
   * @default false
   */
  readonly importedBucketsUseS3ManagedKeys?: boolean;
  /**
   * What happens to the created buckets (and key) when the stack is deleted. Datasets and
   * reports are the user's work, so they are kept unless asked otherwise. With DESTROY, the
   * buckets are emptied on deletion.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How long replaced or deleted object versions are kept before S3 expires them.
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * How long server access logs are kept.
   * @default Duration.days(365)
   */
  readonly accessLogsExpiration?: Duration;
}

const CONSTRUCT = 'FinetuningStorage';

/**
 * The S3 storage of the fine-tuning workflow: a dataset bucket, an artifacts bucket and a
 * server access log bucket, secure by default (no public access, SSL only, encrypted,
 * versioned, access-logged, noncurrent versions expired).
 */
export class FinetuningStorage extends Construct {
  /** Datasets, images and run requests. Sends events to EventBridge. */
  public readonly datasetBucket: s3.IBucket;
  /** Bedrock job output, run records and reports. */
  public readonly artifactsBucket: s3.IBucket;
  /** Where the created buckets write server access logs (undefined when both buckets were passed in). */
  public readonly accessLogsBucket?: s3.IBucket;
  /**
   * The customer managed key of the buckets, when they use SSE-KMS: the one passed, the one
   * a passed-in bucket carries, or the one created here. Everything that reads or writes the
   * buckets is granted its use.
   */
  public readonly encryptionKey?: kms.IKey;
  /** Whether {@link encryptionKey} was created here (and may be given to logs and SNS too). */
  public readonly encryptionKeyCreated: boolean;

  constructor(scope: Construct, id: string, props: FinetuningStorageProps = {}) {
    super(scope, id);
    requireAtMostOne(CONSTRUCT, 'datasetBucket', props.datasetBucket, 'datasetBucketProps', props.datasetBucketProps, this);
    requireAtMostOne(CONSTRUCT, 'artifactsBucket', props.artifactsBucket, 'artifactsBucketProps', props.artifactsBucketProps, this);
    // A passed-in bucket that carries its key needs that key's grants: take it as the storage key.
    const bucketKey = this.keyOfPassedBuckets(props);
    const givenKey = props.encryptionKey ?? bucketKey;
    const encryption = props.encryption ?? (givenKey ? StorageEncryption.KMS : StorageEncryption.S3_MANAGED);
    if (props.encryptionKey && encryption !== StorageEncryption.KMS) {
      throw new InvalidPropsError(CONSTRUCT, 'encryptionKey', 'a key was given with S3-managed encryption', 'Set encryption to StorageEncryption.KMS or drop encryptionKey.', this);
    }
    for (const [name, bucketProps] of [['datasetBucketProps', props.datasetBucketProps], ['artifactsBucketProps', props.artifactsBucketProps]] as const) {
      if (bucketProps?.encryption !== undefined || bucketProps?.encryptionKey !== undefined) {
        throw new InvalidPropsError(CONSTRUCT, `${name}.encryption`, 'bucket encryption is set per bucket', 'Use the construct-level encryption and encryptionKey props so every bucket and grant agree.', this);
      }
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    // The key of the buckets created here (none with SSE-S3).
    let createdBucketsKey: kms.IKey | undefined;
    if (encryption === StorageEncryption.KMS) {
      createdBucketsKey =
        givenKey ??
        new kms.Key(this, 'Key', {
          description: 'Encrypts fine-tuning datasets and artifacts',
          enableKeyRotation: true,
          removalPolicy,
        });
    }
    this.encryptionKey = createdBucketsKey ?? bucketKey;
    this.encryptionKeyCreated = this.encryptionKey !== undefined && this.encryptionKey !== givenKey;

    const needsCreatedBucket = !props.datasetBucket || !props.artifactsBucket;
    if (needsCreatedBucket) {
      this.accessLogsBucket = props.accessLogsBucket ?? this.createAccessLogsBucket(removalPolicy, props.accessLogsExpiration ?? Duration.days(365));
    }

    this.datasetBucket = props.datasetBucket ?? this.createBucket('DatasetBucket', 'dataset/', props.datasetBucketProps, removalPolicy, props, createdBucketsKey);
    this.artifactsBucket = props.artifactsBucket ?? this.createBucket('ArtifactsBucket', 'artifacts/', props.artifactsBucketProps, removalPolicy, props, createdBucketsKey);

    if (props.datasetBucket) {
      if (props.datasetBucket instanceof s3.Bucket) {
        enableEventBridge(props.datasetBucket);
      } else {
        Annotations.of(this).addInfo(
          `The dataset bucket ${props.datasetBucket.node.path} was imported: make sure it sends events to Amazon EventBridge (S3 console > Properties > Event notifications), or uploads will not start runs.`,
        );
      }
    }
  }

  private createAccessLogsBucket(removalPolicy: RemovalPolicy, expiration: Duration): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogsBucket', {
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [{ expiration, noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket itself; logging it into itself would create a loop of log deliveries.',
    });
    return bucket;
  }

  /**
   * The key the passed-in buckets are known to use, checked against `encryptionKey`; fails synth
   * for what would fail at run time: keys that disagree, or a bucket whose encryption cannot be
   * known and was not stated.
   */
  private keyOfPassedBuckets(props: FinetuningStorageProps): kms.IKey | undefined {
    const where = `${CONSTRUCT} ${this.node.path}`;
    const passed = (['datasetBucket', 'artifactsBucket'] as const).flatMap((prop) => (props[prop] ? [{ prop, bucket: props[prop] }] : []));
    let known: { prop: string; bucket: s3.IBucket; key: kms.IKey } | undefined;
    for (const { prop, bucket } of passed) {
      const key = bucket.encryptionKey;
      if (key) {
        if (props.encryptionKey && !sameKey(key, props.encryptionKey)) {
          throw new InvalidPropsError(
            where,
            'encryptionKey',
            `${prop} ${bucket.node.path} is encrypted with the key ${key.node.path}, not with encryptionKey ${props.encryptionKey.node.path}, so runs would be denied its use`,
            `Drop encryptionKey (the bucket's own key is used) or pass the bucket's key.`,
            this,
          );
        }
        if (known && !sameKey(known.key, key)) {
          throw new InvalidPropsError(
            where,
            prop,
            `${known.prop} ${known.bucket.node.path} and ${prop} ${bucket.node.path} are encrypted with different keys (${known.key.node.path}, ${key.node.path}); the storage has one key`,
            'Encrypt both buckets with one key, or pass only the dataset bucket and let the artifacts bucket be created under its key.',
            this,
          );
        }
        known = known ?? { prop, bucket, key };
      } else if (!Resource.isOwnedResource(bucket) && !props.encryptionKey && !props.importedBucketsUseS3ManagedKeys) {
        // A bucket defined in this app without a key is SSE-S3 (or the AWS managed aws/s3 key); an imported one may have any key.
        throw new InvalidPropsError(
          where,
          prop,
          `the bucket ${bucket.node.path} was imported without its encryption key, so whether runs may read it cannot be known`,
          'If it uses a customer managed KMS key, pass that key as encryptionKey (or import the bucket with Bucket.fromBucketAttributes({ bucketName, encryptionKey })); if it uses SSE-S3 or the AWS managed key aws/s3, set importedBucketsUseS3ManagedKeys: true.',
          this,
        );
      }
    }
    return known?.key;
  }

  private createBucket(id: string, logPrefix: string, overrides: s3.BucketProps | undefined, removalPolicy: RemovalPolicy, props: FinetuningStorageProps, key: kms.IKey | undefined): s3.Bucket {
    const bucket = new s3.Bucket(this, id, {
      ...overrides,
      encryption: key ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: key,
      bucketKeyEnabled: key ? true : undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: overrides?.lifecycleRules ?? [
        {
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: overrides?.removalPolicy ?? removalPolicy,
      autoDeleteObjects: overrides?.autoDeleteObjects ?? removalPolicy === RemovalPolicy.DESTROY,
    });
    this.enableAccessLogging(bucket, `${Names.uniqueId(this)}/${logPrefix}`);
    if (id === 'DatasetBucket') enableEventBridge(bucket);
    return bucket;
  }

  /**
   * Sends the bucket's server access logs to the log bucket. Done by hand instead of through
   * `serverAccessLogsBucket` so that the log bucket is granted by a bucket policy scoped to
   * this source bucket and account, whatever feature flags the user's app sets (the ACL
   * alternative would need ObjectWriter ownership on the log bucket).
   */
  private enableAccessLogging(bucket: s3.Bucket, prefix: string): void {
    const logs = this.accessLogsBucket!;
    (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: logs.bucketName,
      logFilePrefix: prefix,
    };
    logs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `AccessLogsFrom${Names.uniqueId(bucket).slice(-48)}`,
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [logs.arnForObjects(`${prefix}*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
    );
  }
}

/** Whether two keys are the same key: the same object, or imported twice from one ARN. */
function sameKey(a: kms.IKey, b: kms.IKey): boolean {
  return a === b || a.keyArn === b.keyArn;
}

/**
 * Turns on EventBridge notifications on the bucket resource itself, keeping any other
 * notification configuration. (The eventBridgeEnabled prop would add a custom resource, a
 * Lambda function, to do what CloudFormation does natively.)
 */
function enableEventBridge(bucket: s3.Bucket): void {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  const existing = (cfn.notificationConfiguration ?? {}) as s3.CfnBucket.NotificationConfigurationProperty;
  cfn.notificationConfiguration = { ...existing, eventBridgeConfiguration: { eventBridgeEnabled: true } };
}

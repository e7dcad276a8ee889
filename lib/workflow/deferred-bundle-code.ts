/**
 * The code of a workflow function whose handler bundle is still being made when the function
 * is created: `cdk synth` (bin/synth.ts) starts esbuild first and builds the construct tree
 * meanwhile, so the two overlap instead of the tree waiting for the bundles. The function's
 * template refers to the asset through lazy values; once the bundles are ready,
 * {@link stageDeferredBundles} stages each one exactly as `Code.fromAsset` does (the same
 * asset construct, hash, metadata and cloud assembly folder), before the app is synthesized.
 */
import { CfnResource, Lazy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Bound and not staged yet. */
const unstaged = new Set<DeferredBundleCode>();

/** A handler bundle that becomes the function's asset code once it is ready. */
export class DeferredBundleCode extends lambda.Code {
  public readonly isInline = false;
  private scope?: Construct;
  private resource?: { readonly resource: CfnResource; readonly options?: lambda.ResourceBindOptions; readonly metadataKeys: readonly string[] };
  private config?: lambda.CodeConfig;

  /**
   * @param handler the handler's name, for errors
   * @param directory the bundle folder, called once the bundles are ready
   */
  constructor(
    private readonly handler: string,
    private readonly directory: () => string,
  ) {
    super();
  }

  public bind(scope: Construct): lambda.CodeConfig {
    if (this.scope) throw new Error(`The deferred code of the '${this.handler}' workflow handler is already bound to ${this.scope.node.path}; create one per function.`);
    this.scope = scope;
    unstaged.add(this);
    return {
      s3Location: {
        bucketName: Lazy.string({ produce: () => this.staged().s3Location!.bucketName }),
        objectKey: Lazy.string({ produce: () => this.staged().s3Location!.objectKey }),
      },
    };
  }

  public bindToResource(resource: CfnResource, options?: lambda.ResourceBindOptions): void {
    this.resource = { resource, options, metadataKeys: Object.keys(resource.cfnOptions.metadata ?? {}) };
  }

  /** Stages the bundle as `Code.fromAsset` would have when the function was created. */
  public stage(): void {
    if (!this.scope) throw new Error(`The deferred code of the '${this.handler}' workflow handler was never bound to a function.`);
    const asset = lambda.Code.fromAsset(this.directory());
    this.config = asset.bind(this.scope);
    if (this.resource) {
      const { resource, options, metadataKeys } = this.resource;
      asset.bindToResource(resource, options);
      // The asset's metadata keys where Code.fromAsset puts them: before those added after the function was created.
      const metadata = resource.cfnOptions.metadata ?? {};
      for (const key of Object.keys(metadata)) {
        if (metadataKeys.includes(key) || key.startsWith('aws:asset:')) continue;
        const value = metadata[key];
        delete metadata[key];
        metadata[key] = value;
      }
    }
    unstaged.delete(this);
  }

  private staged(): lambda.CodeConfig {
    if (!this.config) {
      throw new Error(
        `The code of the '${this.handler}' workflow function (${this.scope?.node.path}) is a handler bundle that was never staged: ` +
          'await prebundleHandlers() and call stageDeferredBundles() before synthesizing the app, as bin/synth.ts does.',
      );
    }
    return this.config;
  }
}

/** Stages every deferred handler bundle bound so far; call once the bundling has finished, before `app.synth()`. */
export function stageDeferredBundles(): void {
  for (const code of [...unstaged]) code.stage();
}

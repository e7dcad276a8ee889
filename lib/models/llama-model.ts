/**
 * The Llama 3.2 model catalogue as jsii-compatible classes. The facts live in one pure module
 * (lambda/shared/models/llama-models.ts) that the handlers and the CLI import too; this file
 * only presents them as an enum-like class and structs.
 */
import * as catalogue from '../../lambda/shared/models/llama-models';

/** A hyperparameter Bedrock accepts for Llama 3.2 customization, as its `hyperParameters` map spells it. */
export enum LlamaHyperParameter {
  /** Passes over the training data. */
  EPOCH_COUNT = 'epochCount',
  /** Records per training step (Bedrock allows only 1 for Llama 3.2). */
  BATCH_SIZE = 'batchSize',
  /** Optimizer step size. */
  LEARNING_RATE = 'learningRate',
}

/** Range and default of one hyperparameter. */
export interface HyperParameterRange {
  /** The hyperparameter. */
  readonly name: LlamaHyperParameter;
  /** Smallest allowed value (inclusive). */
  readonly min: number;
  /** Largest allowed value (inclusive). */
  readonly max: number;
  /** Value Bedrock uses when the parameter is omitted. */
  readonly defaultValue: number;
  /** Whether only whole numbers are allowed. */
  readonly integer: boolean;
  /** One line for error messages and reports. */
  readonly description: string;
}

/** Dataset limits Bedrock enforces for Llama 3.2 customization. */
export interface DatasetLimits {
  /** Fewest training plus validation records a job accepts. */
  readonly minRecords: number;
  /** Most training plus validation records a job accepts (an adjustable quota). */
  readonly maxRecords: number;
  /** Largest image in bytes. */
  readonly maxImageBytes: number;
  /** Smallest image height or width in pixels. */
  readonly minImageSide: number;
  /** Largest image height or width in pixels. */
  readonly maxImageSide: number;
  /** Image formats Bedrock accepts. */
  readonly imageFormats: string[];
  /** Most validation datasets a job accepts. */
  readonly maxValidators: number;
}

/**
 * A Meta Llama 3.2 model that Amazon Bedrock can fine-tune: one static member per model, or
 * `LlamaModel.fromId()` for any spelling a run request accepts.
 */
export class LlamaModel {
  /** Llama 3.2 1B Instruct (text only). */
  public static readonly LLAMA_3_2_1B = LlamaModel.of('llama3.2-1b');
  /** Llama 3.2 3B Instruct (text only). */
  public static readonly LLAMA_3_2_3B = LlamaModel.of('llama3.2-3b');
  /** Llama 3.2 11B Instruct (text and images). */
  public static readonly LLAMA_3_2_11B = LlamaModel.of('llama3.2-11b');
  /** Llama 3.2 90B Instruct (text and images). */
  public static readonly LLAMA_3_2_90B = LlamaModel.of('llama3.2-90b');

  /** Regions where Llama 3.2 model customization was offered when this catalogue was written. */
  public static readonly CUSTOMIZATION_REGIONS: string[] = [...catalogue.CUSTOMIZATION_REGIONS];

  /** Dataset limits Bedrock enforces for Llama 3.2 customization. */
  public static readonly DATASET_LIMITS: DatasetLimits = {
    ...catalogue.DATASET_LIMITS,
    imageFormats: [...catalogue.DATASET_LIMITS.imageFormats],
  };

  /** Every Llama 3.2 model Bedrock can customize, smallest first. */
  public static all(): LlamaModel[] {
    return [LlamaModel.LLAMA_3_2_1B, LlamaModel.LLAMA_3_2_3B, LlamaModel.LLAMA_3_2_11B, LlamaModel.LLAMA_3_2_90B];
  }

  /**
   * The model with this short name (`llama3.2-11b`), base model identifier, foundation model id
   * or inference profile id (case-insensitive).
   *
   * @throws when no Llama 3.2 model has that id; the message lists the known models.
   */
  public static fromId(id: string): LlamaModel {
    const spec = catalogue.resolveModel(id);
    return LlamaModel.all().find((m) => m.name === spec.name)!;
  }

  /** Whether Llama 3.2 customization is offered in a region. */
  public static isCustomizationRegion(region: string): boolean {
    return catalogue.isCustomizationRegion(region);
  }

  /**
   * Bedrock's estimate of the tokens one image costs:
   * min(2, max(H // 560, 1)) * min(2, max(W // 560, 1)) * 1601.
   */
  public static estimateImageTokens(height: number, width: number): number {
    return catalogue.estimateImageTokens(height, width);
  }

  private static of(name: catalogue.LlamaModelName): LlamaModel {
    return new LlamaModel(catalogue.LLAMA_MODELS.find((m) => m.name === name)!);
  }

  /** Short name, e.g. `llama3.2-11b`. */
  public readonly name: string;
  /** Human-readable name. */
  public readonly displayName: string;
  /** The `baseModelIdentifier` for CreateModelCustomizationJob. */
  public readonly baseModelIdentifier: string;
  /** The foundation model id used for on-demand inference (without the context-length suffix). */
  public readonly foundationModelId: string;
  /** The cross-region inference profile id (US geography) used for base-model inference. */
  public readonly inferenceProfileId: string;
  /** Whether the model accepts images (11B and 90B do; 1B and 3B are text only). */
  public readonly supportsImages: boolean;
  /** Maximum input plus output tokens of one training record. */
  public readonly maxTokensPerRecord: number;
  /** Hyperparameters the model accepts, with ranges and defaults. */
  public readonly hyperParameters: HyperParameterRange[];

  private constructor(spec: catalogue.LlamaModelSpec) {
    this.name = spec.name;
    this.displayName = spec.displayName;
    this.baseModelIdentifier = spec.baseModelIdentifier;
    this.foundationModelId = spec.foundationModelId;
    this.inferenceProfileId = spec.inferenceProfileId;
    this.supportsImages = spec.supportsImages;
    this.maxTokensPerRecord = spec.maxTokensPerRecord;
    this.hyperParameters = spec.hyperParameters.map((p) => ({ ...p, name: p.name as LlamaHyperParameter }));
  }

  /**
   * Hyperparameters with every value checked against this model's ranges and defaults filled in
   * (values may be numbers or numeric strings).
   *
   * @throws naming each bad parameter, its allowed range and the fix.
   */
  public resolveHyperParameters(requested: Record<string, any> = {}): Record<string, number> {
    return catalogue.resolveHyperParameters(catalogue.resolveModel(this.name), requested);
  }
}

/**
 * A small chart-question dataset generated on the fly for the demo: each record shows a tiny
 * real PNG "chart" and asks for a sum; answers are numbers, so SQuAD F1 is easy to read.
 */
import { pngImage } from '../test/support/images';

export interface SampleDataset {
  readonly files: Record<string, string | Buffer>;
  readonly request: Record<string, unknown>;
}

function record(i: number, bucket: string, account: string): string {
  return JSON.stringify({
    schemaVersion: 'bedrock-conversation-2024',
    system: [{ text: 'You read bar charts. Answer with a number only.' }],
    messages: [
      {
        role: 'user',
        content: [
          { text: `The chart shows bars of ${i} and ${i + 1}. What is their total?` },
          { image: { format: 'png', source: { s3Location: { uri: `s3://${bucket}/demo/images/chart-${i % 8}.png`, bucketOwner: account } } } },
        ],
      },
      { role: 'assistant', content: [{ text: String(2 * i + 1) }] },
    ],
  });
}

/** Training (120), validation (20) and test (20) records, 8 images, and the run request. */
export function sampleDataset(bucket: string, account: string): SampleDataset {
  const lines = (from: number, count: number) => Array.from({ length: count }, (_, n) => record(from + n, bucket, account)).join('\n') + '\n';
  const files: Record<string, string | Buffer> = {
    'demo/train.jsonl': lines(0, 120),
    'demo/validation.jsonl': lines(1000, 20),
    'demo/test.jsonl': lines(2000, 20),
  };
  for (let i = 0; i < 8; i++) files[`demo/images/chart-${i}.png`] = pngImage(320 + 16 * i, 240);
  return {
    files,
    request: {
      name: 'demo-charts-11b',
      model: 'llama3.2-11b',
      trainingData: 'demo/train.jsonl',
      validationData: 'demo/validation.jsonl',
      testData: 'demo/test.jsonl',
      hyperParameters: { epochCount: 2 },
      evaluation: { maxTokens: 16 },
    },
  };
}

/** The variants of `npm run demo -- --experiment`: learning rate and epochs, over the single demo's request. */
export const DEMO_EXPERIMENT_VARIANTS = [
  { name: 'lr-low', hyperParameters: { learningRate: 0.00005 } },
  { name: 'lr-high', hyperParameters: { learningRate: 0.0002 } },
  { name: 'lr-high-3-epochs', hyperParameters: { learningRate: 0.0002, epochCount: 3 } },
] as const;

/** The single demo's request turned into a 3-variant experiment (`experiment.variants`). */
export function sampleExperimentRequest(dataset: SampleDataset): Record<string, unknown> {
  return {
    ...dataset.request,
    name: 'demo-charts-sweep',
    experiment: { variants: DEMO_EXPERIMENT_VARIANTS.map((v) => ({ name: v.name, hyperParameters: { ...v.hyperParameters } })) },
  };
}

/**
 * The demo's stand-in models: the fine-tuned one answers the total except when the first
 * bar is a multiple of `missEvery` (7 unless said); the base model rambles ("The total is N.")
 * for even first bars and guesses wrong otherwise.
 */
export function demoAnswer(question: string, fineTuned: boolean, missEvery = 7): string {
  const [a, b] = (/bars of (\d+) and (\d+)/.exec(question) ?? []).slice(1).map(Number);
  if (fineTuned) return a % missEvery === 0 ? String(a) : String(a + b);
  return a % 2 === 0 ? `The total is ${a + b}.` : `About ${a}.`;
}

/**
 * How often the experiment demo's stand-in fine-tuned model misses, from the hyperparameters
 * its job trained with (Bedrock's strings): a made-up rule so the variants score differently
 * and deterministically (more epochs and the higher learning rate miss less often). With the
 * demo's test records (first bars 2000-2019): every 3rd -> 7 misses, every 5th -> 4, every
 * 7th -> 3.
 */
export function demoMissEvery(hyperParameters: Readonly<Record<string, string>>): number {
  const epochs = Number(hyperParameters.epochCount ?? 2);
  const learningRate = Number(hyperParameters.learningRate ?? 0.0001);
  return 3 + 2 * Math.max(0, epochs - 2) + (learningRate >= 0.0001 ? 2 : 0);
}

/**
 * Deterministic train/validation/test split.
 *
 * Examples are grouped (by image, so questions about one image never end up on both sides of
 * a split and leak), each group is ranked by a SHA-256 hash of the seed and the group key,
 * and the ranked list is cut at the requested proportions of the record count. The result
 * depends only on the seed and the set of examples, not on their order in the file, and the
 * split sizes are the requested proportions rounded (exactly so when every group is one record).
 */
import { createHash } from 'crypto';

/** The three dataset files prepare writes. */
export type SplitName = 'train' | 'validation' | 'test';

/** The splits in output order. */
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test'];

/** Share of records per split; the shares sum to 1. */
export type SplitRatios = Readonly<Record<SplitName, number>>;

/** The default --split. */
export const DEFAULT_SPLIT_RATIOS: SplitRatios = { train: 0.8, validation: 0.1, test: 0.1 };

const SUM_TOLERANCE = 1e-6;

/**
 * Parses `--split` text: "train,validation,test" (e.g. "0.8,0.1,0.1") or "train,validation" (no test split).
 * @throws Error explaining the expected form when the text is not that.
 */
export function parseSplitRatios(text: string): SplitRatios {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length < 2 || parts.length > 3) {
    throw new Error(`"${text}" must be two or three numbers separated by commas (train,validation[,test]), e.g. 0.8,0.1,0.1`);
  }
  const values = parts.map((p) => (p === '' ? NaN : Number(p)));
  values.forEach((v, i) => {
    if (!Number.isFinite(v) || v < 0 || v > 1) {
      throw new Error(`"${parts[i]}" (${SPLIT_NAMES[i]}) must be a number from 0 to 1, e.g. 0.8,0.1,0.1`);
    }
  });
  const [train, validation, test = 0] = values;
  const sum = train + validation + test;
  if (Math.abs(sum - 1) > SUM_TOLERANCE) {
    throw new Error(`"${text}" sums to ${Number(sum.toFixed(6))}; the shares must sum to 1, e.g. 0.8,0.1,0.1`);
  }
  if (train === 0) throw new Error(`"${text}" gives the training split nothing; give it a share above 0`);
  return { train, validation, test };
}

/**
 * Assigns each item to a split.
 * @param groupKeys one key per item; items with the same key go to the same split.
 * @param ratios shares per split (summing to 1).
 * @param seed any text; a different seed gives a different (equally valid) split.
 * @returns the split of each item, in input order.
 */
export function assignSplits(groupKeys: readonly string[], ratios: SplitRatios, seed: string): SplitName[] {
  const groups = new Map<string, number[]>();
  groupKeys.forEach((key, index) => {
    const members = groups.get(key);
    if (members) members.push(index);
    else groups.set(key, [index]);
  });
  const ranked = [...groups.entries()]
    .map(([key, members]) => ({ rank: rankOf(seed, key), key, members }))
    // The key breaks (astronomically unlikely) hash ties so the order stays total.
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const total = groupKeys.length;
  const trainEnd = ratios.train * total;
  const validationEnd = (ratios.train + ratios.validation) * total;
  const result = new Array<SplitName>(total);
  let before = 0;
  for (const group of ranked) {
    // A group belongs where its middle falls, so a one-record group lands exactly as rounding would put it.
    const middle = before + group.members.length / 2;
    const split: SplitName = middle < trainEnd ? 'train' : middle < validationEnd ? 'validation' : 'test';
    for (const index of group.members) result[index] = split;
    before += group.members.length;
  }
  return result;
}

function rankOf(seed: string, key: string): string {
  return createHash('sha256').update(seed).update('\0').update(key).digest('hex');
}

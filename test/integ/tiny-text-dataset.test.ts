/**
 * The data the integration tests upload, checked offline with the real validation engine and
 * run request parser, so that a deployed test fails (or passes) for the reason it claims.
 */
import { DATASET_LIMITS, resolveModel } from '../../lambda/shared/models/llama-models';
import { inMemoryDatasetSource, renderSummary, validateDataset, ValidationReport } from '../../lambda/shared/validation';
import { parseRunRequest } from '../../lambda/shared/run-request';
import { TOO_FEW_RECORDS_RULE, tinyRunRequest, tinyTextDataset } from './support/tiny-text-dataset';

function validate(jsonl: string): Promise<ValidationReport> {
  return validateDataset({
    model: resolveModel('llama3.2-1b'),
    files: [{ role: 'training', source: inMemoryDatasetSource('datasets/integ/train.jsonl', jsonl) }],
    maxListedProblems: 1000,
  });
}

const errorRules = (report: ValidationReport) => [...new Set(report.problems.errors.map((p) => p.rule))];

describe('tinyTextDataset', () => {
  test('writes the asked number of distinct records, one JSON object a line', () => {
    const lines = tinyTextDataset(7).trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    expect(new Set(lines).size).toBe(7);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ schemaVersion: 'bedrock-conversation-2024' });
  });

  test('refuses a count that is not a positive integer', () => {
    expect(() => tinyTextDataset(0)).toThrow(/positive integer/);
    expect(() => tinyTextDataset(2.5)).toThrow(/positive integer/);
  });

  test("the validation test's 5 records break the record-count rule and nothing else", async () => {
    const report = await validate(tinyTextDataset(5));
    expect(report.valid).toBe(false);
    expect(errorRules(report)).toEqual([TOO_FEW_RECORDS_RULE]);
    // The execution's cause is this summary; the integration test looks for the rule in it.
    expect(renderSummary(report)).toContain(TOO_FEW_RECORDS_RULE);
  });

  test("the real job's minimum of records is valid for llama3.2-1b", async () => {
    const report = await validate(tinyTextDataset(DATASET_LIMITS.minRecords));
    expect(errorRules(report)).toEqual([]);
    expect(report.valid).toBe(true);
  });
});

describe('tinyRunRequest', () => {
  test('is a valid run request for one epoch of llama3.2-1b without evaluation', () => {
    const text = tinyRunRequest({ name: 'integ-real-finetune', model: 'llama3.2-1b', trainingData: 'datasets/integ-real/train.jsonl', epochCount: 1 });
    const request = parseRunRequest(text, 's3://dataset-bucket/requests/integ-real-finetune.json', 'dataset-bucket');
    expect(request.model.name).toBe('llama3.2-1b');
    expect(request.trainingDataKey).toBe('datasets/integ-real/train.jsonl');
    expect(request.hyperParameters.epochCount).toBe(1);
    expect(request.hyperParametersOverridden).toContain('epochCount');
    expect(request.evaluation.enabled).toBe(false);
    expect(request.testDataKey).toBeUndefined();
  });
});

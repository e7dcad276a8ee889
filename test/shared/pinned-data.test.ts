import { dataPrefixProblems } from '../../lambda/shared/data-prefix';
import { referencesSidecarKey } from '../../lambda/shared/evaluation/test-records';
import { DATA_FILE_ROLES, MAX_PINNED_FILE_BYTES, dataFileProblems, pinnedDataLocation, pinnedDataUri, sourceDataKeys } from '../../lambda/shared/pinned-data';
import { deriveRunId } from '../../lambda/shared/run-context';

describe('the identity of an upload (run id)', () => {
  const request = { bucket: 'b', key: 'requests/r.json' };
  test('without versioning, each write (sequencer) is its own run even with the same ETag; a duplicate delivery (same sequencer) is the same run', () => {
    const first = deriveRunId('chartqa', { ...request, etag: 'same', sequencer: '0000000000000001' });
    expect(deriveRunId('chartqa', { ...request, etag: 'same', sequencer: '0000000000000001' })).toBe(first);
    expect(deriveRunId('chartqa', { ...request, etag: 'same', sequencer: '0000000000000002' })).not.toBe(first);
  });

  test('the version id wins where there is one, so versioned buckets keep their run ids', () => {
    expect(deriveRunId('chartqa', { ...request, versionId: 'v1', sequencer: '01', etag: 'e' })).toBe(deriveRunId('chartqa', { ...request, versionId: 'v1' }));
    expect(deriveRunId('chartqa', { ...request, etag: 'e' })).toBe(deriveRunId('chartqa', { ...request, etag: 'e' }));
  });
});

describe('pinned data locations', () => {
  const run = { artifacts: { bucket: 'artifacts', prefix: 'runs/chartqa-0123456789ab/' } };
  test('every file role has its own copy under the run\'s data/ folder; the test sidecar keeps the name evaluation derives from the test file', () => {
    const keys = DATA_FILE_ROLES.map((role) => pinnedDataLocation(run, role).key);
    expect(keys).toEqual(['training', 'validation', 'test', 'test.references'].map((name) => `runs/chartqa-0123456789ab/data/${name}.jsonl`));
    expect(pinnedDataLocation(run, 'testReferences').key).toBe(referencesSidecarKey(pinnedDataLocation(run, 'test').key));
    expect(pinnedDataUri(run, 'training')).toBe('s3://artifacts/runs/chartqa-0123456789ab/data/training.jsonl');
  });

  test('the files a request names: the test file brings its sidecar', () => {
    expect(sourceDataKeys({ trainingKey: 'd/train.jsonl' })).toEqual({ training: 'd/train.jsonl' });
    expect(sourceDataKeys({ trainingKey: 'd/train.jsonl', validationKey: 'd/val.jsonl', testKey: 'd/test.jsonl' })).toEqual({
      training: 'd/train.jsonl',
      validation: 'd/val.jsonl',
      test: 'd/test.jsonl',
      testReferences: 'd/test.references.jsonl',
    });
  });
});

describe('the named files as found', () => {
  const keys = sourceDataKeys({ trainingKey: 'd/train.jsonl', validationKey: 'd/val.jsonl', testKey: 'd/test.jsonl' });
  const version = (key: string, size: number) => ({ key, etag: '"e"', size });
  test('missing, empty and too-large files are named with their field and the fix; a missing references sidecar is fine', () => {
    expect(dataFileProblems('bucket', keys, { training: version('d/train.jsonl', 10), validation: version('d/val.jsonl', 10), test: version('d/test.jsonl', 10) })).toEqual([]);
    expect(dataFileProblems('bucket', keys, { training: version('d/train.jsonl', MAX_PINNED_FILE_BYTES + 1), validation: version('d/val.jsonl', 0) })).toEqual([
      { field: 'trainingData', rule: 'data-too-large', message: `s3://bucket/d/train.jsonl has ${MAX_PINNED_FILE_BYTES + 1} bytes; a run copies its data under the run with one S3 CopyObject (at most 5 GB), so split it into files of at most 5 GB` },
      { field: 'validationData', rule: 'data-empty', message: 's3://bucket/d/val.jsonl is empty' },
      { field: 'testData', rule: 'data-missing', message: 's3://bucket/d/test.jsonl does not exist; upload the file first, then upload the request again' },
    ]);
    // Exactly 5 GiB is the most one CopyObject copies.
    expect(dataFileProblems('bucket', { training: 'd/train.jsonl' }, { training: version('d/train.jsonl', 5 * 1024 ** 3) })).toEqual([]);
  });
});

describe('data prefix', () => {
  test('keys outside the prefix are named with the prefix and the fix; none without a prefix', () => {
    const keys = [['trainingData', 'teams/a/train.jsonl'], ['testData', 'teams/b/test.jsonl'], ['validationData', undefined]] as const;
    expect(dataPrefixProblems(undefined, 'bucket', keys)).toEqual([]);
    expect(dataPrefixProblems('teams/a/', 'bucket', keys)).toEqual([
      {
        field: 'testData',
        rule: 'data-prefix',
        message: "s3://bucket/teams/b/test.jsonl is outside this deployment's data prefix 'teams/a/' (its requests may name only data under s3://bucket/teams/a/); move the file under that prefix and name the new key",
      },
    ]);
    // A sibling whose name merely starts like the folder is outside it (prefixes end in '/').
    expect(dataPrefixProblems('teams/a/', 'bucket', [['trainingData', 'teams/ab/train.jsonl']])).toHaveLength(1);
  });
});

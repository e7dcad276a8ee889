/**
 * LocalS3 driven by the real @aws-sdk/client-s3, the way handler code will use it.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { LocalS3 } from '../support/local-s3';
import { encodeAwsChunked } from '../support/stand-ins/aws-chunked';
import { fastRetries } from '../support/stand-ins/fast-retries';

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/** The error a promise rejects with (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('LocalS3 with the AWS SDK', () => {
  let s3: LocalS3;
  let client: S3Client;
  /** Headers of every request the SDK sent, to prove which wire format was exercised. */
  const sentHeaders: Array<Record<string, string>> = [];

  const newClient = (options: { maxAttempts?: number; accessKeyId?: string } = {}) => {
    const c = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-west-2',
      credentials: { accessKeyId: options.accessKeyId ?? 'AKIDLAMBDA', secretAccessKey: 'test' },
      retryStrategy: fastRetries(options.maxAttempts ?? 3),
    });
    c.middlewareStack.add(
      (next) => async (args) => {
        sentHeaders.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'recordSentHeaders' },
    );
    return c;
  };

  beforeAll(async () => {
    s3 = await LocalS3.start({ minPartSize: 8 });
    client = newClient();
  });

  afterAll(async () => {
    client.destroy();
    await s3.stop();
  });

  beforeEach(() => {
    sentHeaders.length = 0;
    s3.clearFaults();
    s3.setAuthorizer(undefined);
    s3.callLog.clear();
  });

  describe('buckets', () => {
    it('creates a bucket the SDK can head, and refuses to create it twice', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'created-by-sdk' }));
      await expect(client.send(new HeadBucketCommand({ Bucket: 'created-by-sdk' }))).resolves.toMatchObject({ BucketRegion: 'us-west-2' });
      expect((await client.send(new GetBucketLocationCommand({ Bucket: 'created-by-sdk' }))).LocationConstraint).toBe('us-west-2');
      expect(s3.bucketNames()).toContain('created-by-sdk');
      const err = await rejectionOf(client.send(new CreateBucketCommand({ Bucket: 'created-by-sdk' })));
      expect(err.name).toBe('BucketAlreadyOwnedByYou');
    });

    it('answers NoSuchBucket for objects in a bucket that does not exist', async () => {
      const err = await rejectionOf(client.send(new GetObjectCommand({ Bucket: 'never-created', Key: 'k' })));
      expect(err.name).toBe('NoSuchBucket');
      expect(err.$metadata.httpStatusCode).toBe(404);
    });
  });

  describe('PutObject and GetObject', () => {
    beforeAll(() => s3.createBucket('objects'));

    it('stores a Buffer with its content type and metadata, and returns the MD5 ETag', async () => {
      const body = Buffer.from('{"question":"what is shown?"}\n');
      const put = await client.send(new PutObjectCommand({ Bucket: 'objects', Key: 'data/train.jsonl', Body: body, ContentType: 'application/jsonl', Metadata: { 'run-id': 'r1' } }));
      expect(put.ETag).toBe(`"${md5(body)}"`);
      expect(put.VersionId).toBeUndefined();

      const got = await client.send(new GetObjectCommand({ Bucket: 'objects', Key: 'data/train.jsonl' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
      expect(got.ContentType).toBe('application/jsonl');
      expect(got.Metadata).toEqual({ 'run-id': 'r1' });
      expect(got.ContentLength).toBe(body.length);
      expect(s3.headObject('objects', 'data/train.jsonl')).toMatchObject({ size: body.length, contentType: 'application/jsonl', metadata: { 'run-id': 'r1' } });
    });

    it('decodes an aws-chunked stream upload with a CRC32 trailer', async () => {
      const parts = [Buffer.from('first line\n'), Buffer.alloc(70_000, 'x'), Buffer.from('\nlast line\n')];
      const whole = Buffer.concat(parts);
      await client.send(new PutObjectCommand({ Bucket: 'objects', Key: 'streamed.txt', Body: Readable.from(parts), ContentLength: whole.length }));
      const put = sentHeaders.find((h) => h['x-amz-content-sha256']?.startsWith('STREAMING-'));
      expect(put).toBeDefined();
      expect(put!['x-amz-trailer']).toMatch(/^x-amz-checksum-/);
      expect(s3.getObject('objects', 'streamed.txt')?.equals(whole)).toBe(true);
    });

    it('records SSE-KMS settings and reports them back', async () => {
      const keyArn = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      const put = await client.send(new PutObjectCommand({ Bucket: 'objects', Key: 'kms.json', Body: '{}', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
      expect(put.ServerSideEncryption).toBe('aws:kms');
      const got = await client.send(new GetObjectCommand({ Bucket: 'objects', Key: 'kms.json' }));
      expect([got.ServerSideEncryption, got.SSEKMSKeyId]).toEqual(['aws:kms', keyArn]);
      expect(s3.headObject('objects', 'kms.json')).toMatchObject({ serverSideEncryption: 'aws:kms', sseKmsKeyId: keyArn });
    });

    it('keys with spaces, unicode and slashes round-trip', async () => {
      const key = 'images/été 2024/chart #1+2.png';
      await client.send(new PutObjectCommand({ Bucket: 'objects', Key: key, Body: 'png-bytes' }));
      expect(s3.listKeys('objects', 'images/')).toEqual([key]);
      const got = await client.send(new GetObjectCommand({ Bucket: 'objects', Key: key }));
      expect(await got.Body!.transformToString()).toBe('png-bytes');
    });

    it.each([
      ['a dot-dot segment', 'a/../b.json', 'b.json'],
      ['a double slash', 'runs//r-1/run.json', 'runs/r-1/run.json'],
      ['a leading dot segment', './x.json', 'x.json'],
      ['a trailing dot-dot', 'reports/..', 'reports'],
    ])('keeps a key with %s literal, as S3 does (the SDK sends it unresolved)', async (_label, key, resolved) => {
      await client.send(new PutObjectCommand({ Bucket: 'objects', Key: key, Body: 'literal' }));
      expect(s3.listKeys('objects')).toContain(key);
      expect(s3.listKeys('objects')).not.toContain(resolved);
      const got = await client.send(new GetObjectCommand({ Bucket: 'objects', Key: key }));
      expect(await got.Body!.transformToString()).toBe('literal');
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'objects', Prefix: key }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual([key]);
      expect(s3.callLog.entries({ operation: 'PutObject' }).at(-1)?.resources).toEqual([`arn:aws:s3:::objects/${key}`]);
      expect((await rejectionOf(client.send(new HeadObjectCommand({ Bucket: 'objects', Key: resolved })))).$metadata.httpStatusCode).toBe(404);
      s3.deleteObject('objects', key);
    });

    it('rejects a body whose checksum does not match with BadDigest', async () => {
      const err = await rejectionOf(client.send(new PutObjectCommand({ Bucket: 'objects', Key: 'corrupt', Body: 'payload', ChecksumCRC32: 'AAAAAA==' })));
      expect(err.name).toBe('BadDigest');
      expect(s3.getObject('objects', 'corrupt')).toBeUndefined();
    });

    it('rejects an aws-chunked body whose trailer checksum does not match', async () => {
      const payload = Buffer.from('tampered payload');
      const body = encodeAwsChunked(payload, 5, { 'x-amz-checksum-crc32': 'AAAAAA==' });
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${s3.endpoint}/objects/raw-chunked`, {
          method: 'PUT',
          headers: {
            'content-encoding': 'aws-chunked',
            'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
            'x-amz-decoded-content-length': String(payload.length),
            'x-amz-trailer': 'x-amz-checksum-crc32',
            'content-length': String(body.length),
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(status).toBe(400);
      expect(s3.getObject('objects', 'raw-chunked')).toBeUndefined();
    });

    it('serves byte ranges with 206 and Content-Range', async () => {
      s3.putObject('objects', 'digits.txt', '0123456789');
      const first = await client.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits.txt', Range: 'bytes=2-5' }));
      expect(first.$metadata.httpStatusCode).toBe(206);
      expect(first.ContentRange).toBe('bytes 2-5/10');
      expect(await first.Body!.transformToString()).toBe('2345');
      const tail = await client.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits.txt', Range: 'bytes=-3' }));
      expect(await tail.Body!.transformToString()).toBe('789');
      const err = await rejectionOf(client.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits.txt', Range: 'bytes=10-20' })));
      expect(err.name).toBe('InvalidRange');
      expect(err.$metadata.httpStatusCode).toBe(416);
    });

    it('raises NoSuchKey from GetObject and NotFound from HeadObject for a missing key', async () => {
      const get = await rejectionOf(client.send(new GetObjectCommand({ Bucket: 'objects', Key: 'missing.json' })));
      expect(get).toBeInstanceOf(NoSuchKey);
      const head = await rejectionOf(client.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'missing.json' })));
      expect(head).toBeInstanceOf(NotFound);
      expect(head.$metadata.httpStatusCode).toBe(404);
    });

    it('heads an existing object with its size and ETag', async () => {
      const put = s3.putObject('objects', 'head-me', Buffer.alloc(1234, 1));
      const head = await client.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'head-me' }));
      expect(head.ContentLength).toBe(1234);
      expect(head.ETag).toBe(put.etag);
    });

    it('honours If-None-Match: * (412 PreconditionFailed when the key exists)', async () => {
      await client.send(new PutObjectCommand({ Bucket: 'objects', Key: 'once.json', Body: 'first', IfNoneMatch: '*' }));
      const err = await rejectionOf(client.send(new PutObjectCommand({ Bucket: 'objects', Key: 'once.json', Body: 'second', IfNoneMatch: '*' })));
      expect(err.name).toBe('PreconditionFailed');
      expect(err.$metadata.httpStatusCode).toBe(412);
      expect(s3.getObject('objects', 'once.json')?.toString()).toBe('first');
    });

    it('honours If-Match on writes', async () => {
      const first = s3.putObject('objects', 'cas.json', 'v1');
      await client.send(new PutObjectCommand({ Bucket: 'objects', Key: 'cas.json', Body: 'v2', IfMatch: first.etag }));
      const err = await rejectionOf(client.send(new PutObjectCommand({ Bucket: 'objects', Key: 'cas.json', Body: 'v3', IfMatch: first.etag })));
      expect(err.name).toBe('PreconditionFailed');
      expect(s3.getObject('objects', 'cas.json')?.toString()).toBe('v2');
    });

    it('copies objects, keeping metadata unless told to replace it', async () => {
      s3.putObject('objects', 'src.json', '{"a":1}', { contentType: 'application/json', metadata: { origin: 'upload' } });
      await client.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'copy.json', CopySource: 'objects/src.json' }));
      expect(s3.headObject('objects', 'copy.json')).toMatchObject({ contentType: 'application/json', metadata: { origin: 'upload' } });
      await client.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'copy2.json', CopySource: 'objects/src.json', MetadataDirective: 'REPLACE', ContentType: 'text/plain', Metadata: { origin: 'copy' } }));
      expect(s3.headObject('objects', 'copy2.json')).toMatchObject({ contentType: 'text/plain', metadata: { origin: 'copy' } });
      expect(s3.getObject('objects', 'copy2.json')?.toString()).toBe('{"a":1}');
    });

    it('copies only while the source keeps the ETag given in x-amz-copy-source-if-match (else 412)', async () => {
      const first = s3.putObject('objects', 'pinned-src.json', 'validated');
      await client.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'pinned.json', CopySource: 'objects/pinned-src.json', CopySourceIfMatch: first.etag }));
      s3.putObject('objects', 'pinned-src.json', 'replaced');
      const err = await rejectionOf(client.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'pinned.json', CopySource: 'objects/pinned-src.json', CopySourceIfMatch: first.etag })));
      expect(err.name).toBe('PreconditionFailed');
      expect(s3.getObject('objects', 'pinned.json')?.toString()).toBe('validated');
    });

    it('gives every write its own event sequencer, even with the same bytes, increasing', async () => {
      s3.putObject('objects', 'seq.json', 'same');
      const first = s3.headObject('objects', 'seq.json')!.sequencer;
      expect(s3.headObject('objects', 'seq.json')!.sequencer).toBe(first); // reading does not change it
      await client.send(new PutObjectCommand({ Bucket: 'objects', Key: 'seq.json', Body: 'same' }));
      const second = s3.headObject('objects', 'seq.json')!.sequencer;
      expect(second).not.toBe(first);
      expect(second > first).toBe(true);
      expect(first).toMatch(/^[0-9A-F]{16}$/);
    });

    it('deletes one object or many', async () => {
      for (const key of ['del/a', 'del/b', 'del/c']) s3.putObject('objects', key, key);
      await client.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'del/a' }));
      const out = await client.send(new DeleteObjectsCommand({ Bucket: 'objects', Delete: { Objects: [{ Key: 'del/b' }, { Key: 'del/c' }] } }));
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['del/b', 'del/c']);
      expect(s3.listKeys('objects', 'del/')).toEqual([]);
    });

    it('answers NotImplemented for operations it does not cover', async () => {
      s3.putObject('objects', 'tagged', 'x');
      const err = await rejectionOf(client.send(new GetObjectTaggingCommand({ Bucket: 'objects', Key: 'tagged' })));
      expect(err.name).toBe('NotImplemented');
      expect(err.message).toContain('local-s3.ts');
    });
  });

  describe('versioning', () => {
    beforeAll(() => s3.createBucket('versioned', { versioned: true }));

    it('returns a new version id per write and serves old versions', async () => {
      const v1 = await client.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'model.json', Body: 'one' }));
      const v2 = await client.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'model.json', Body: 'two' }));
      expect(v1.VersionId).toBeTruthy();
      expect(v2.VersionId).toBeTruthy();
      expect(v2.VersionId).not.toBe(v1.VersionId);
      const old = await client.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'model.json', VersionId: v1.VersionId }));
      expect(await old.Body!.transformToString()).toBe('one');
      expect(old.VersionId).toBe(v1.VersionId);
      expect(s3.putObject('versioned', 'model.json', 'three').versionId).toBeTruthy();
    });

    it('hides a deleted key behind a delete marker but keeps its versions', async () => {
      const v1 = await client.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'gone.json', Body: 'kept' }));
      const deleted = await client.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'gone.json' }));
      expect(deleted.DeleteMarker).toBe(true);
      expect(await rejectionOf(client.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'gone.json' })))).toBeInstanceOf(NoSuchKey);
      const old = await client.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'gone.json', VersionId: v1.VersionId }));
      expect(await old.Body!.transformToString()).toBe('kept');
      expect(s3.versionsOf('versioned', 'gone.json').map((v) => v.deleteMarker)).toEqual([true, false]);
    });

    it('turns versioning on through PutBucketVersioning', async () => {
      s3.createBucket('later-versioned');
      expect((await client.send(new PutObjectCommand({ Bucket: 'later-versioned', Key: 'k', Body: 'a' }))).VersionId).toBeUndefined();
      await client.send(new PutBucketVersioningCommand({ Bucket: 'later-versioned', VersioningConfiguration: { Status: 'Enabled' } }));
      expect((await client.send(new PutObjectCommand({ Bucket: 'later-versioned', Key: 'k', Body: 'b' }))).VersionId).toBeTruthy();
    });
  });

  describe('ListObjectsV2', () => {
    const keys = Array.from({ length: 23 }, (_, i) => `runs/run-${String(i).padStart(2, '0')}/result.json`).concat(['runs/index.json', 'other/x']);

    beforeAll(() => {
      s3.createBucket('listing');
      keys.forEach((key) => s3.putObject('listing', key, key));
    });

    it('filters by prefix and groups by delimiter', async () => {
      const out = await client.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'runs/', Delimiter: '/' }));
      expect(out.Contents?.map((c) => c.Key)).toEqual(['runs/index.json']);
      expect(out.CommonPrefixes).toHaveLength(23);
      expect(out.KeyCount).toBe(24);
    });

    it('pages with MaxKeys and continuation tokens, listing each key once', async () => {
      const listed: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const out = await client.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'runs/', MaxKeys: 5, ContinuationToken: token }));
        listed.push(...(out.Contents ?? []).map((c) => c.Key!));
        expect(out.Contents!.length).toBeLessThanOrEqual(5);
        token = out.NextContinuationToken;
        pages += 1;
      } while (token && pages < 50);
      expect(pages).toBe(5);
      expect(listed.sort()).toEqual(keys.filter((k) => k.startsWith('runs/')).sort());
    });

    it('reports sizes and ETags', async () => {
      const out = await client.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'other/' }));
      expect(out.Contents).toEqual([expect.objectContaining({ Key: 'other/x', Size: 'other/x'.length, ETag: `"${md5('other/x')}"` })]);
    });
  });

  describe('multipart upload', () => {
    beforeAll(() => s3.createBucket('multipart'));

    const uploadParts = async (key: string, parts: Buffer[]) => {
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: 'multipart', Key: key, ContentType: 'application/x-tar' }));
      const etags: string[] = [];
      for (const [index, body] of parts.entries()) {
        const out = await client.send(new UploadPartCommand({ Bucket: 'multipart', Key: key, UploadId: created.UploadId, PartNumber: index + 1, Body: body }));
        etags.push(out.ETag!);
      }
      return { uploadId: created.UploadId!, etags };
    };

    it('assembles the parts and answers the multipart ETag', async () => {
      const parts = [Buffer.alloc(10, 'a'), Buffer.alloc(9, 'b'), Buffer.from('end')];
      const { uploadId, etags } = await uploadParts('big.tar', parts);
      const done = await client.send(
        new CompleteMultipartUploadCommand({ Bucket: 'multipart', Key: 'big.tar', UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
      );
      const expectedEtag = createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex');
      expect(done.ETag).toBe(`"${expectedEtag}-3"`);
      expect(s3.getObject('multipart', 'big.tar')?.equals(Buffer.concat(parts))).toBe(true);
      expect(s3.headObject('multipart', 'big.tar')?.contentType).toBe('application/x-tar');
      expect(s3.pendingUploads('multipart')).toEqual([]);
    });

    it('rejects parts below the minimum size and unknown part ETags', async () => {
      const small = await uploadParts('small.tar', [Buffer.from('tiny'), Buffer.from('last')]);
      const tooSmall = await rejectionOf(
        client.send(new CompleteMultipartUploadCommand({ Bucket: 'multipart', Key: 'small.tar', UploadId: small.uploadId, MultipartUpload: { Parts: small.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } })),
      );
      expect(tooSmall.name).toBe('EntityTooSmall');
      const wrongEtag = await rejectionOf(
        client.send(new CompleteMultipartUploadCommand({ Bucket: 'multipart', Key: 'small.tar', UploadId: small.uploadId, MultipartUpload: { Parts: [{ ETag: `"${md5('other')}"`, PartNumber: 1 }] } })),
      );
      expect(wrongEtag.name).toBe('InvalidPart');
      await client.send(new AbortMultipartUploadCommand({ Bucket: 'multipart', Key: 'small.tar', UploadId: small.uploadId }));
      expect(s3.pendingUploads('multipart')).toEqual([]);
      expect(s3.getObject('multipart', 'small.tar')).toBeUndefined();
    });
  });

  describe('fault injection', () => {
    beforeAll(() => {
      s3.createBucket('faults');
      s3.putObject('faults', 'k', 'value');
    });

    it('lets the SDK retry through injected SlowDown errors', async () => {
      s3.failNext(2, { operation: 'GetObject' });
      const got = await client.send(new GetObjectCommand({ Bucket: 'faults', Key: 'k' }));
      expect(await got.Body!.transformToString()).toBe('value');
      expect(got.$metadata.attempts).toBe(3);
    });

    it('surfaces the error once the attempts are used up', async () => {
      const single = newClient({ maxAttempts: 1 });
      s3.failNext(1, { status: 500, code: 'InternalError' });
      const err = await rejectionOf(single.send(new HeadObjectCommand({ Bucket: 'faults', Key: 'k' })));
      expect(err.$metadata.httpStatusCode).toBe(500);
      s3.failNext(1);
      const slow = await rejectionOf(single.send(new GetObjectCommand({ Bucket: 'faults', Key: 'k' })));
      expect(slow.name).toBe('SlowDown');
      expect(slow.$metadata.httpStatusCode).toBe(503);
      single.destroy();
    });

    it('only fails the operation it was scoped to', async () => {
      s3.failNext(1, { operation: 'PutObject' });
      await expect(client.send(new HeadObjectCommand({ Bucket: 'faults', Key: 'k' }))).resolves.toBeDefined();
      expect(s3.callLog.count({ succeeded: false })).toBe(0);
    });

    describe('409 ConditionalRequestConflict on conditional writes', () => {
      const single = () => newClient({ maxAttempts: 3 });

      it('answers a conditional PutObject (If-None-Match: *) with 409 in S3\'s error document, which the SDK does not retry', async () => {
        const c = single();
        s3.conflictConditionalWrites(1);
        const err = await rejectionOf(c.send(new PutObjectCommand({ Bucket: 'faults', Key: 'claim.json', Body: '{}', IfNoneMatch: '*' })));
        expect(err.name).toBe('ConditionalRequestConflict');
        expect(err.$metadata.httpStatusCode).toBe(409);
        expect(err.$metadata.attempts).toBe(1);
        expect(err.$fault).toBe('client');
        expect(err.message).toMatch(/conflicting operation/);
        expect(s3.headObject('faults', 'claim.json')).toBeUndefined();
        // Retrying, as S3 tells the caller to, succeeds.
        await c.send(new PutObjectCommand({ Bucket: 'faults', Key: 'claim.json', Body: '{}', IfNoneMatch: '*' }));
        expect(s3.getObject('faults', 'claim.json')?.toString()).toBe('{}');
        c.destroy();
      });

      it('answers If-Match writes and CompleteMultipartUpload with a condition, and leaves unconditional writes and reads alone', async () => {
        const c = single();
        const { etag } = s3.putObject('faults', 'record.json', 'v1');
        s3.conflictConditionalWrites('forever');
        // Unconditional writes, reads and the multipart steps that take no condition go through.
        await c.send(new PutObjectCommand({ Bucket: 'faults', Key: 'plain.json', Body: 'x' }));
        await c.send(new GetObjectCommand({ Bucket: 'faults', Key: 'record.json', IfMatch: etag }));
        const created = await c.send(new CreateMultipartUploadCommand({ Bucket: 'faults', Key: 'big.bin' }));
        const part = await c.send(new UploadPartCommand({ Bucket: 'faults', Key: 'big.bin', UploadId: created.UploadId, PartNumber: 1, Body: 'abc' }));
        // Conditional writes meet the conflict.
        const ifMatch = await rejectionOf(c.send(new PutObjectCommand({ Bucket: 'faults', Key: 'record.json', Body: 'v2', IfMatch: etag })));
        expect([ifMatch.name, ifMatch.$metadata.httpStatusCode]).toEqual(['ConditionalRequestConflict', 409]);
        const complete = await rejectionOf(
          c.send(new CompleteMultipartUploadCommand({ Bucket: 'faults', Key: 'big.bin', UploadId: created.UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } })),
        );
        expect([complete.name, complete.$metadata.httpStatusCode]).toEqual(['ConditionalRequestConflict', 409]);
        const copy = await rejectionOf(c.send(new CopyObjectCommand({ Bucket: 'faults', Key: 'copy.json', CopySource: 'faults/record.json', IfNoneMatch: '*' })));
        expect([copy.name, copy.$metadata.httpStatusCode]).toEqual(['ConditionalRequestConflict', 409]);
        expect(s3.getObject('faults', 'record.json')?.toString()).toBe('v1');
        expect(s3.callLog.entries({ succeeded: false }).map((e) => [e.operation, e.action, e.errorCode])).toEqual([
          ['PutObject', 's3:PutObject', 'ConditionalRequestConflict'],
          ['CompleteMultipartUpload', 's3:PutObject', 'ConditionalRequestConflict'],
          ['CopyObject', 's3:PutObject', 'ConditionalRequestConflict'],
          ['CopyObject', 's3:GetObject', 'ConditionalRequestConflict'],
        ]);
        c.destroy();
      });

      it('sends the 409 as S3\'s REST error document, and only when the request carries a condition', async () => {
        s3.conflictConditionalWrites('forever', { operation: 'PutObject' });
        const raw = (headers: Record<string, string>) =>
          new Promise<{ status: number; type?: string; body: string }>((resolve, reject) => {
            const req = request(`${s3.endpoint}/faults/raw-conflict.json`, { method: 'PUT', headers: { 'content-length': '2', ...headers } });
            req.on('response', (res) => {
              let body = '';
              res.on('data', (chunk: Buffer) => (body += chunk.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
            });
            req.on('error', reject);
            req.end('{}');
          });
        const conflict = await raw({ 'if-none-match': '*' });
        expect(conflict.status).toBe(409);
        expect(conflict.type).toBe('application/xml');
        expect(conflict.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Error><Code>ConditionalRequestConflict<\/Code><Message>A conflicting operation occurred\. [^<]+<\/Message><RequestId>[^<]+<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/);
        expect((await raw({})).status).toBe(200);
      });

      it('keeps failNext working and scopes it to conditional writes with conditionalOnly', async () => {
        const c = single();
        s3.failNext(1, { status: 409, code: 'ConditionalRequestConflict', operation: 'PutObject', conditionalOnly: true });
        await c.send(new PutObjectCommand({ Bucket: 'faults', Key: 'scoped.json', Body: 'a' }));
        const err = await rejectionOf(c.send(new PutObjectCommand({ Bucket: 'faults', Key: 'scoped.json', Body: 'b', IfNoneMatch: '*' })));
        expect(err.name).toBe('ConditionalRequestConflict');
        // Spent: the next conditional write meets the real precondition instead.
        const precondition = await rejectionOf(c.send(new PutObjectCommand({ Bucket: 'faults', Key: 'scoped.json', Body: 'b', IfNoneMatch: '*' })));
        expect([precondition.name, precondition.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
        c.destroy();
      });
    });
  });

  describe('call log', () => {
    beforeAll(() => s3.createBucket('audited', { versioned: true }));

    it('records the IAM action and resource each request needs', async () => {
      const put = await client.send(new PutObjectCommand({ Bucket: 'audited', Key: 'a/b.json', Body: '{}' }));
      await client.send(new HeadObjectCommand({ Bucket: 'audited', Key: 'a/b.json' }));
      await client.send(new GetObjectCommand({ Bucket: 'audited', Key: 'a/b.json', VersionId: put.VersionId }));
      await client.send(new ListObjectsV2Command({ Bucket: 'audited', Prefix: 'a/' }));
      await client.send(new CopyObjectCommand({ Bucket: 'audited', Key: 'c.json', CopySource: 'audited/a/b.json' }));
      const entries = s3.callLog.entries().map((e) => [e.operation, e.action, e.resources.join(','), e.status, e.principal]);
      expect(entries).toEqual([
        ['PutObject', 's3:PutObject', 'arn:aws:s3:::audited/a/b.json', 200, 'AKIDLAMBDA'],
        ['HeadObject', 's3:GetObject', 'arn:aws:s3:::audited/a/b.json', 200, 'AKIDLAMBDA'],
        ['GetObject', 's3:GetObjectVersion', 'arn:aws:s3:::audited/a/b.json', 200, 'AKIDLAMBDA'],
        ['ListObjectsV2', 's3:ListBucket', 'arn:aws:s3:::audited', 200, 'AKIDLAMBDA'],
        ['CopyObject', 's3:PutObject', 'arn:aws:s3:::audited/c.json', 200, 'AKIDLAMBDA'],
        ['CopyObject', 's3:GetObject', 'arn:aws:s3:::audited/a/b.json', 200, 'AKIDLAMBDA'],
      ]);
    });

    it('logs multipart parts as s3:PutObject and failures with their error code', async () => {
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: 'audited', Key: 'parts.bin' }));
      await client.send(new UploadPartCommand({ Bucket: 'audited', Key: 'parts.bin', UploadId: created.UploadId, PartNumber: 1, Body: 'abc' }));
      await rejectionOf(client.send(new GetObjectCommand({ Bucket: 'audited', Key: 'nope' })));
      expect(s3.callLog.entries({ operation: 'UploadPart' })[0]).toMatchObject({ action: 's3:PutObject', resources: ['arn:aws:s3:::audited/parts.bin'] });
      expect(s3.callLog.entries({ succeeded: false })).toEqual([expect.objectContaining({ operation: 'GetObject', status: 404, errorCode: 'NoSuchKey' })]);
    });

    it('enforces an authorizer: AccessDenied, and 403 instead of 404 without s3:ListBucket', async () => {
      s3.putObject('audited', 'secret.json', '{}');
      const reader = newClient({ accessKeyId: 'AKIDREADER', maxAttempts: 1 });
      s3.setAuthorizer(({ principal, action }) => principal !== 'AKIDREADER' || action === 's3:GetObject');
      await expect(reader.send(new GetObjectCommand({ Bucket: 'audited', Key: 'secret.json' }))).resolves.toBeDefined();
      const denied = await rejectionOf(reader.send(new PutObjectCommand({ Bucket: 'audited', Key: 'secret.json', Body: 'x' })));
      expect(denied.name).toBe('AccessDenied');
      expect(denied.$metadata.httpStatusCode).toBe(403);
      const hidden = await rejectionOf(reader.send(new GetObjectCommand({ Bucket: 'audited', Key: 'does-not-exist' })));
      expect(hidden.$metadata.httpStatusCode).toBe(403);
      expect(s3.callLog.entries({ principal: 'AKIDREADER', succeeded: false }).map((e) => e.errorCode)).toEqual(['AccessDenied', 'AccessDenied']);
      reader.destroy();
    });
  });
});

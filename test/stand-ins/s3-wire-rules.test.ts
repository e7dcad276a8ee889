/**
 * Pure rules under LocalS3: aws-chunked decoding, checksums, byte ranges and listing order.
 */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { ChunkedBodyError, decodeAwsChunked, encodeAwsChunked, isAwsChunked } from '../support/stand-ins/aws-chunked';
import { algorithmOfHeader, checksumBase64, crc32, crc32c, multipartEtag } from '../support/stand-ins/checksums';
import { resolveRange } from '../support/stand-ins/s3-byte-range';
import { InvalidContinuationTokenError, listObjectsPage } from '../support/stand-ins/s3-listing';

describe('aws-chunked bodies', () => {
  const payload = Buffer.from('The quick brown fox jumps over the lazy dog, twice: The quick brown fox.');

  it('recovers the payload and trailers from unsigned chunks', () => {
    const body = encodeAwsChunked(payload, 16, { 'x-amz-checksum-crc32': 'AAAAAA==' });
    const decoded = decodeAwsChunked(body);
    expect(decoded.payload.equals(payload)).toBe(true);
    expect(decoded.trailers).toEqual({ 'x-amz-checksum-crc32': 'AAAAAA==' });
  });

  it('ignores chunk signatures of signed streaming bodies', () => {
    const body = Buffer.concat([
      Buffer.from(`5;chunk-signature=${'a'.repeat(64)}\r\n`),
      Buffer.from('hello'),
      Buffer.from(`\r\n0;chunk-signature=${'b'.repeat(64)}\r\n\r\n`),
    ]);
    expect(decodeAwsChunked(body).payload.toString()).toBe('hello');
    expect(decodeAwsChunked(body).trailers).toEqual({});
  });

  it('keeps binary payloads byte for byte, including CRLF inside the data', () => {
    const binary = Buffer.from([0, 13, 10, 255, 13, 10, 48, 13, 10, 1]);
    expect(decodeAwsChunked(encodeAwsChunked(binary, 3)).payload.equals(binary)).toBe(true);
  });

  it.each([
    ['a size that is not hex', Buffer.from('zz\r\nabc\r\n0\r\n\r\n')],
    ['a chunk longer than the body', Buffer.from('ff\r\nabc\r\n0\r\n\r\n')],
    ['chunk data without CRLF', Buffer.from('3\r\nabcX0\r\n\r\n')],
    ['no final chunk header', Buffer.from('3\r\nabc\r\n')],
  ])('rejects %s', (_label, body) => {
    expect(() => decodeAwsChunked(body)).toThrow(ChunkedBodyError);
  });

  it('is recognised from the SDK headers', () => {
    expect(isAwsChunked({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' })).toBe(true);
    expect(isAwsChunked({ 'content-encoding': 'gzip, aws-chunked' })).toBe(true);
    expect(isAwsChunked({ 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-encoding': 'gzip' })).toBe(false);
  });
});

describe('checksums', () => {
  const check = Buffer.from('123456789');

  it('match the published check values of CRC-32 and CRC-32C', () => {
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32c(check)).toBe(0xe3069283);
  });

  it('match the published check value of CRC-64/NVME', () => {
    expect(Buffer.from(checksumBase64('crc64nvme', check), 'base64').toString('hex')).toBe('ae8b14860a799888');
  });

  it('agree with node:zlib CRC-32 and node:crypto SHA digests on random data', () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251));
    const expected = Buffer.alloc(4);
    expected.writeUInt32BE(zlib.crc32(data));
    expect(checksumBase64('crc32', data)).toBe(expected.toString('base64'));
    expect(checksumBase64('sha256', data)).toBe(createHash('sha256').update(data).digest('base64'));
    expect(checksumBase64('sha1', data)).toBe(createHash('sha1').update(data).digest('base64'));
  });

  it('build multipart ETags from the binary MD5s of the parts', () => {
    const parts = [Buffer.from('part one'), Buffer.from('part two')];
    const partEtags = parts.map((p) => `"${createHash('md5').update(p).digest('hex')}"`);
    const expected = createHash('md5')
      .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
      .digest('hex');
    expect(multipartEtag(partEtags)).toBe(`${expected}-2`);
  });

  it('name the algorithm of a checksum header', () => {
    expect(algorithmOfHeader('X-Amz-Checksum-CRC32C')).toBe('crc32c');
    expect(algorithmOfHeader('x-amz-checksum-algorithm')).toBeUndefined();
  });
});

describe('byte ranges', () => {
  it.each([
    ['bytes=0-4', 10, { kind: 'partial', start: 0, end: 4 }],
    ['bytes=5-', 10, { kind: 'partial', start: 5, end: 9 }],
    ['bytes=-3', 10, { kind: 'partial', start: 7, end: 9 }],
    ['bytes=-30', 10, { kind: 'partial', start: 0, end: 9 }],
    ['bytes=-30', 0, { kind: 'whole' }],
    ['bytes=8-100', 10, { kind: 'partial', start: 8, end: 9 }],
    ['bytes=10-12', 10, { kind: 'unsatisfiable' }],
    ['bytes=0-0', 0, { kind: 'unsatisfiable' }],
    ['bytes=4-2', 10, { kind: 'whole' }],
    ['bytes=0-1,4-5', 10, { kind: 'whole' }],
    ['items=0-1', 10, { kind: 'whole' }],
  ])('%s of a %i-byte object', (header, size, expected) => {
    expect(resolveRange(header, size)).toEqual(expected);
  });
});

describe('ListObjectsV2 paging', () => {
  const keys = ['photos/2024/a.png', 'photos/2024/b.png', 'photos/2025/c.png', 'photos/readme.txt', 'train.jsonl', 'valid.jsonl', 'z/1', 'z/2'];

  it('rolls keys under the delimiter into common prefixes', () => {
    const page = listObjectsPage(keys, { prefix: 'photos/', delimiter: '/' });
    expect(page.keys).toEqual(['photos/readme.txt']);
    expect(page.commonPrefixes).toEqual(['photos/2024/', 'photos/2025/']);
  });

  it('visits every entry exactly once across pages of any size', () => {
    for (const maxKeys of [1, 2, 3, 7]) {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = listObjectsPage(keys, { delimiter: '/', maxKeys, continuationToken: token });
        seen.push(...page.keys, ...page.commonPrefixes);
        token = page.nextContinuationToken;
        expect(page.isTruncated).toBe(token !== undefined);
        pages += 1;
      } while (token && pages < 20);
      expect(seen.sort()).toEqual(['photos/', 'train.jsonl', 'valid.jsonl', 'z/'].sort());
    }
  });

  it('orders keys by UTF-8 bytes, as S3 does', () => {
    // U+FF21 (3 UTF-8 bytes, starts 0xEF) sorts before U+1F600 (4 bytes, starts 0xF0), unlike UTF-16 order.
    const page = listObjectsPage(['\u{1F600}', '\uFF21', 'a'], {});
    expect(page.keys).toEqual(['a', '\uFF21', '\u{1F600}']);
  });

  it('starts after StartAfter and rejects foreign continuation tokens', () => {
    expect(listObjectsPage(keys, { startAfter: 'train.jsonl' }).keys).toEqual(['valid.jsonl', 'z/1', 'z/2']);
    expect(() => listObjectsPage(keys, { continuationToken: 'bm90LW91cnM=' })).toThrow(InvalidContinuationTokenError);
  });
});

/**
 * The checksums S3 accepts for flexible checksums (x-amz-checksum-*), computed the way S3
 * encodes them: base64 of the big-endian digest. Pure functions, no I/O.
 *
 * Written out here (not zlib.crc32) because zlib.crc32 only exists from Node 20.15 and
 * CRC32C / CRC64NVME are not in Node at all.
 */
import { createHash } from 'node:crypto';

/** Algorithms as S3 names them in `x-amz-checksum-<name>` headers. */
export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';

/** Every algorithm, in the order S3 lists them. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];

function crc32Table(reversedPolynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ reversedPolynomial : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32_TABLE = crc32Table(0xedb88320);
const CRC32C_TABLE = crc32Table(0x82f63b78);

function crc32With(table: Uint32Array, data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const CRC64_NVME_REVERSED = 0x9a6c9329ac4bc9b5n;
const MASK64 = 0xffffffffffffffffn;
const CRC64_TABLE: bigint[] = (() => {
  const table: bigint[] = [];
  for (let n = 0n; n < 256n; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ CRC64_NVME_REVERSED : c >> 1n;
    table.push(c);
  }
  return table;
})();

function crc64nvme(data: Uint8Array): bigint {
  let crc = MASK64;
  for (let i = 0; i < data.length; i++) crc = CRC64_TABLE[Number((crc ^ BigInt(data[i])) & 0xffn)] ^ (crc >> 8n);
  return (crc ^ MASK64) & MASK64;
}

/** CRC-32 (IEEE) of the data as an unsigned number. */
export function crc32(data: Uint8Array): number {
  return crc32With(CRC32_TABLE, data);
}

/** CRC-32C (Castagnoli) of the data as an unsigned number. */
export function crc32c(data: Uint8Array): number {
  return crc32With(CRC32C_TABLE, data);
}

/** The digest of `data` as S3 sends it: base64 of the big-endian bytes. */
export function checksumBase64(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  switch (algorithm) {
    case 'crc32':
    case 'crc32c': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(algorithm === 'crc32' ? crc32(data) : crc32c(data));
      return out.toString('base64');
    }
    case 'crc64nvme': {
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(crc64nvme(data));
      return out.toString('base64');
    }
    case 'sha1':
    case 'sha256':
      return createHash(algorithm).update(data).digest('base64');
  }
}

/** Lower-case hex MD5, the ETag of a single-part object. */
export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** Base64 MD5, the form of the Content-MD5 header. */
export function md5Base64(data: Uint8Array): string {
  return createHash('md5').update(data).digest('base64');
}

/**
 * ETag of a multipart object: MD5 of the concatenated binary part MD5s, then `-<part count>`.
 * `partEtags` are the parts' quoted or bare hex ETags.
 */
export function multipartEtag(partEtags: readonly string[]): string {
  const digests = partEtags.map((etag) => Buffer.from(etag.replace(/"/g, ''), 'hex'));
  return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${partEtags.length}`;
}

/** Finds the algorithm a header or trailer name refers to (`x-amz-checksum-crc32` -> `crc32`). */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const match = /^x-amz-checksum-([a-z0-9]+)$/.exec(name.toLowerCase());
  return match && (CHECKSUM_ALGORITHMS as readonly string[]).includes(match[1]) ? (match[1] as ChecksumAlgorithm) : undefined;
}

/**
 * Where a JSONL data file is read from: a local file or an S3 object, both as a byte stream
 * (never loaded whole). The engine only sees {@link DatasetSource}.
 */
import { createReadStream } from 'fs';
import { stat } from 'fs/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DataFileChangedError, isChangedSource } from '../pinned-data';
import { isNotFound } from '../s3';

/** An opened data file. */
export interface OpenedDataset {
  readonly stream: AsyncIterable<Uint8Array>;
  /** Size in bytes when known (for progress). */
  readonly size?: number;
}

/** A data file the engine can read. */
export interface DatasetSource {
  /** How the user named it (path or s3:// URI), shown in every problem. */
  readonly name: string;
  /** Opens the stream; throws {@link DatasetFileNotFoundError} when the file does not exist. */
  open(): Promise<OpenedDataset>;
}

/** The data file does not exist. */
export class DatasetFileNotFoundError extends Error {
  constructor(readonly fileName: string) {
    super(`${fileName} does not exist`);
    this.name = 'DatasetFileNotFoundError';
  }
}

/** Chunk size for local reads: large chunks mean fewer, cheaper line batches. */
const LOCAL_CHUNK_BYTES = 64 * 1024;

/** A local JSONL file. */
export function localDatasetSource(filePath: string, name = filePath): DatasetSource {
  return {
    name,
    async open() {
      let size: number;
      try {
        const info = await stat(filePath);
        if (!info.isFile()) throw new DatasetFileNotFoundError(name);
        size = info.size;
      } catch (err) {
        if (err instanceof DatasetFileNotFoundError || (err as NodeJS.ErrnoException).code === 'ENOENT') throw new DatasetFileNotFoundError(name);
        throw err;
      }
      return { stream: createReadStream(filePath, { highWaterMark: LOCAL_CHUNK_BYTES }), size };
    },
  };
}

/**
 * A JSONL object in S3, streamed from one GetObject (read only; the object is never changed).
 * With a pinned `version` (what a run accepted), exactly that object is read: by version id
 * where the bucket is versioned, else only while it keeps its ETag (If-Match); a file that
 * changed meanwhile throws {@link DataFileChangedError} instead of being read.
 */
export function s3DatasetSource(s3: S3Client, bucket: string, key: string, version?: { readonly versionId?: string; readonly etag?: string }): DatasetSource {
  const name = `s3://${bucket}/${key}`;
  return {
    name,
    async open() {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: version?.versionId, IfMatch: version?.etag || undefined }));
        return { stream: out.Body as AsyncIterable<Uint8Array>, size: out.ContentLength };
      } catch (err) {
        if (version && isChangedSource(err)) {
          throw new DataFileChangedError(name, version.versionId ? `version ${version.versionId} is gone` : `its ETag is no longer ${version.etag}`);
        }
        if (isNotFound(err) || (err as { name?: string }).name === 'NoSuchKey') throw new DatasetFileNotFoundError(name);
        throw err;
      }
    },
  };
}

/** A source over text held in memory (tests, and data produced on the fly). */
export function inMemoryDatasetSource(name: string, text: string, chunkChars = 64 * 1024): DatasetSource {
  return {
    name,
    async open() {
      async function* chunks() {
        const bytes = Buffer.from(text, 'utf8');
        for (let i = 0; i < bytes.length; i += chunkChars) yield bytes.subarray(i, i + chunkChars);
      }
      return { stream: chunks(), size: Buffer.byteLength(text, 'utf8') };
    },
  };
}

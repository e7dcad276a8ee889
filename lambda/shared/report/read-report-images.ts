/**
 * Reads the images the report embeds from S3, within the limits: one ranged GET per image for
 * at most `maxBytesPerImage` bytes (a larger image costs that read and becomes a placeholder,
 * its size known from Content-Range), at most `maxImages` distinct images. An image that
 * cannot be read becomes a placeholder saying why: a picture never fails the report.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { ImageByteSource, S3ImageByteSource } from '../validation/image-source';
import { ReportRecord } from './report-model';
import { ReportImage, ReportImageLimits, imagePlaceholder, imagesToRead, reportImageOf } from './report-images';

/** Reads the images of the examples (see the module comment); `onUnreadable` hears each failure. */
export async function readReportImages(
  s3: S3Client | ImageByteSource,
  examples: readonly ReportRecord[],
  limits: ReportImageLimits,
  onUnreadable: (uri: string, error: Error) => void = () => undefined,
): Promise<Map<string, ReportImage>> {
  const source: ImageByteSource = s3 instanceof S3Client ? new S3ImageByteSource(s3) : s3;
  const uris = imagesToRead(examples, limits);
  const images = await Promise.all(
    uris.map(async (uri): Promise<ReportImage> => {
      try {
        const { bytes, totalSize } = await source.readRange(uri, 0, limits.maxBytesPerImage);
        if (totalSize === 0) return imagePlaceholder(uri, 'the file is empty');
        return reportImageOf(uri, bytes, totalSize, limits);
      } catch (err) {
        onUnreadable(uri, err as Error);
        return imagePlaceholder(uri, (err as Error).message);
      }
    }),
  );
  return new Map(images.map((image) => [image.uri, image]));
}

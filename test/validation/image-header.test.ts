import { detectImageFormat, IMAGE_HEADER_PREFIX_BYTES, IMAGE_TRAILER_BYTES, inspectImageEnd, inspectImageHeader, readImageInfo } from '../../lambda/shared/image-header';
import { gifImage, imageBytes, jpegImage, pngImage, webpImage, WebpVariant } from '../support/images';

describe('detectImageFormat', () => {
  it.each([
    ['png', pngImage(20, 30)],
    ['jpeg', jpegImage(20, 30)],
    ['gif', gifImage(20, 30)],
    ['webp', webpImage(20, 30)],
  ])('recognises %s by its magic bytes', (format, bytes) => {
    expect(detectImageFormat(bytes)).toBe(format);
  });

  it('returns undefined for other bytes', () => {
    expect(detectImageFormat(Buffer.from('%PDF-1.7 hello'))).toBeUndefined();
    expect(detectImageFormat(Buffer.from('RIFF....WAVEfmt '))).toBeUndefined();
    expect(detectImageFormat(new Uint8Array(0))).toBeUndefined();
  });
});

describe('readImageInfo', () => {
  const sizes: Array<[number, number]> = [
    [1, 1],
    [37, 21],
    [560, 1120],
    [9000, 9000],
  ];

  it.each(sizes)('reads a %ix%i PNG, JPEG and GIF', (width, height) => {
    for (const format of ['png', 'jpeg', 'gif'] as const) {
      expect(readImageInfo(imageBytes(format, width, height))).toEqual({ format, width, height });
    }
  });

  it.each(['VP8', 'VP8L', 'VP8X'] as WebpVariant[])('reads WebP %s', (variant) => {
    for (const [width, height] of [[10, 10], [333, 77], [8192, 8191]]) {
      expect(readImageInfo(webpImage(width, height, variant))).toEqual({ format: 'webp', width, height });
    }
  });

  it('needs only a short prefix for PNG, GIF and WebP', () => {
    expect(readImageInfo(pngImage(300, 200).subarray(0, 24))).toEqual({ format: 'png', width: 300, height: 200 });
    expect(readImageInfo(gifImage(300, 200).subarray(0, 10))).toEqual({ format: 'gif', width: 300, height: 200 });
    for (const variant of ['VP8', 'VP8L', 'VP8X'] as WebpVariant[]) {
      expect(readImageInfo(webpImage(300, 200, variant).subarray(0, 30))).toEqual({ format: 'webp', width: 300, height: 200 });
    }
  });

  it('says how many bytes it needs when the prefix is too short', () => {
    const png = pngImage(300, 200);
    for (const length of [0, 5, 12, 23]) {
      const result = inspectImageHeader(png.subarray(0, length));
      expect(result.status).toBe('need-more-bytes');
      if (result.status === 'need-more-bytes') expect(result.minBytes).toBeGreaterThan(length);
      expect(readImageInfo(png.subarray(0, length))).toBeUndefined();
    }
  });

  it('finds a JPEG start-of-frame behind large metadata by reading as much as it asks for', () => {
    const jpeg = jpegImage(4000, 3000, { metadataBytes: 100_000 });
    let prefix = jpeg.subarray(0, IMAGE_HEADER_PREFIX_BYTES);
    let reads = 1;
    for (;;) {
      const result = inspectImageHeader(prefix);
      if (result.status !== 'need-more-bytes') {
        expect(result).toEqual({ status: 'ok', info: { format: 'jpeg', width: 4000, height: 3000 } });
        break;
      }
      expect(result.minBytes).toBeGreaterThan(prefix.length);
      prefix = jpeg.subarray(0, Math.max(result.minBytes, prefix.length * 2));
      reads++;
    }
    expect(reads).toBeGreaterThan(1);
    expect(prefix.length).toBeLessThan(jpeg.length);
  });

  it('rejects bytes that are no image and malformed headers', () => {
    expect(inspectImageHeader(Buffer.from('not an image at all, just text')).status).toBe('invalid');
    const png = Buffer.from(pngImage(30, 30));
    png.write('XXXX', 12, 'latin1'); // first chunk is no longer IHDR
    expect(inspectImageHeader(png)).toMatchObject({ status: 'invalid', format: 'png' });
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6]); // scan before frame
    expect(inspectImageHeader(jpeg)).toMatchObject({ status: 'invalid', format: 'jpeg' });
    const webp = Buffer.from(webpImage(30, 30, 'VP8'));
    webp[23] = 0; // break the VP8 start code
    expect(inspectImageHeader(webp)).toMatchObject({ status: 'invalid', format: 'webp' });
  });
});

describe('inspectImageEnd (truncation)', () => {
  const tailOf = (bytes: Buffer) => bytes.subarray(Math.max(0, bytes.length - IMAGE_TRAILER_BYTES));
  const check = (format: 'png' | 'jpeg' | 'gif' | 'webp', bytes: Buffer) => inspectImageEnd(format, bytes, tailOf(bytes), bytes.length);

  it.each(['png', 'jpeg', 'gif', 'webp'] as const)('accepts a complete %s', (format) => {
    expect(check(format, imageBytes(format, 120, 80))).toEqual({ complete: true });
  });

  it.each([
    ['png', 'IEND chunk', 12],
    ['jpeg', 'end-of-image marker (FF D9)', 2],
    ['gif', 'trailer byte (3B)', 1],
  ] as const)('reports a %s that lost its %s', (format, marker, lost) => {
    const whole = imageBytes(format, 120, 80);
    const cut = whole.subarray(0, whole.length - lost);
    const result = check(format, cut);
    expect(result).toEqual({ complete: false, reason: expect.stringContaining(marker) });
    expect(inspectImageHeader(cut).status).toBe('ok'); // the header alone cannot tell
  });

  it('compares a WebP with the length its RIFF header declares', () => {
    const whole = imageBytes('webp', 120, 80, { webpVariant: 'VP8X' });
    expect(inspectImageEnd('webp', whole, new Uint8Array(0), whole.length - 1)).toEqual({ complete: false, reason: expect.stringContaining('RIFF header says') });
    expect(inspectImageEnd('webp', whole, new Uint8Array(0), whole.length + 10)).toEqual({ complete: true });
  });
});

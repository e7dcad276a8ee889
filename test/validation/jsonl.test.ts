import { JsonlFileFacts, JsonlLine, readJsonlLineBatches, readJsonlLines } from '../../lambda/shared/jsonl';

async function* chunksOf(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(text: string | Buffer, chunkSize: number, maxLineBytes?: number): Promise<{ lines: JsonlLine[]; facts: JsonlFileFacts }> {
  const facts: JsonlFileFacts = { hadByteOrderMark: false, bytesRead: 0 };
  const lines: JsonlLine[] = [];
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for await (const batch of readJsonlLineBatches(chunksOf(bytes, chunkSize), { maxLineBytes }, facts)) lines.push(...batch);
  return { lines, facts };
}

describe('readJsonlLineBatches', () => {
  const text = '{"a":"héllo wörld 日本語"}\r\n{"b":2}\n\n  \n{"c":"last line without newline"}';

  it.each([1, 2, 3, 7, 64, 1 << 20])('splits lines the same way for chunks of %i bytes', async (chunkSize) => {
    const { lines, facts } = await collect(text, chunkSize);
    const expected = text.split('\n').map((l) => l.replace(/\r$/, ''));
    expect(lines.map((l) => l.text)).toEqual(expected);
    expect(lines.map((l) => Buffer.from(l.source.subarray(l.start, l.start + l.byteLength)).toString('utf8'))).toEqual(expected);
    expect(lines.map((l) => l.byteLength)).toEqual(expected.map((l) => Buffer.byteLength(l)));
    expect(lines.map((l) => l.lineNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(facts.bytesRead).toBe(Buffer.byteLength(text));
  });

  it('does not yield an empty line after a trailing newline', async () => {
    const { lines } = await collect('{"a":1}\n{"b":2}\n', 4);
    expect(lines.map((l) => l.text)).toEqual(['{"a":1}', '{"b":2}']);
  });

  it.each([1, 2, 64])('removes a byte order mark and reports it (chunks of %i bytes)', async (chunkSize) => {
    const { lines, facts } = await collect(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"b":2}\n')]), chunkSize);
    expect(lines.map((l) => l.text)).toEqual(['{"a":1}', '{"b":2}']);
    expect(facts.hadByteOrderMark).toBe(true);
  });

  it('keeps a carriage return split from its newline by a chunk boundary out of the line', async () => {
    const { lines } = await collect('{"a":1}\r\n{"b":2}\r\n', 8);
    expect(lines.map((l) => l.text)).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('skips lines longer than the limit without keeping them, and counts on', async () => {
    const long = 'x'.repeat(1000);
    for (const chunkSize of [10, 5000]) {
      const { lines } = await collect(`{"a":1}\n${long}\n{"b":2}\n${long}`, chunkSize, 100);
      expect(lines.map((l) => [l.lineNumber, l.tooLong ?? false, l.text.length])).toEqual([
        [1, false, 7],
        [2, true, 0],
        [3, false, 7],
        [4, true, 0],
      ]);
      expect(lines[1].byteLength).toBe(1000);
    }
  });

  it('yields single lines through readJsonlLines', async () => {
    const seen: number[] = [];
    for await (const line of readJsonlLines(chunksOf(Buffer.from('a\nb\nc'), 1))) seen.push(line.lineNumber);
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('invalid UTF-8 (issue 10 case 8)', () => {
  const line = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

  it.each([1, 2, 3, 5, 64])('flags the first bad byte with its line and file offsets, whatever the chunks (%i bytes)', async (chunkSize) => {
    // Line 1 valid with multi-byte characters split across chunks; line 2 has a stray 0xff at line byte 7; line 3 a lone continuation byte.
    const bytes = Buffer.concat([line('{"a":"日本語 é"}\n'), line('{"b":"x', [0xff], '"}\r\n'), line('{"c":"', [0x80], '"}')]);
    const { lines } = await collect(bytes, chunkSize);
    expect(lines.map((l) => l.invalidUtf8)).toEqual([undefined, { lineByte: 7, fileByte: 21 + 7 }, { lineByte: 6, fileByte: 21 + 12 + 6 }]);
    expect(bytes[28]).toBe(0xff);
    expect(bytes[39]).toBe(0x80);
  });

  it.each([
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a sequence cut at the end of the line', [0xe6, 0x97]],
  ])('flags %s', async (_what, bad) => {
    const { lines } = await collect(line('{"a":"', bad, '"}\n'), 3);
    expect(lines[0].invalidUtf8).toEqual({ lineByte: 6, fileByte: 6 });
  });

  it('accepts a genuine U+FFFD and every valid sequence length, with or without a byte order mark', async () => {
    const { lines } = await collect(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), line('{"a":"\ufffd é 日 😀 \u{10ffff}"}\n{"b":1}\n')]), 2);
    expect(lines.map((l) => l.invalidUtf8)).toEqual([undefined, undefined]);
  });
});

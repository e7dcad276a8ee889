import { CsvSyntaxError, parseCsv } from '../../cli/prepare/csv-parser';
import { seededRandom } from '../support/seeded-random';

const fieldsOf = (text: string) => parseCsv(text).map((r) => r.fields);

describe('parseCsv', () => {
  test('splits plain records and fields', () => {
    expect(fieldsOf('a,b,c\n1,2,3\n')).toEqual([['a', 'b', 'c'], ['1', '2', '3']]);
  });

  test('keeps commas inside quoted fields', () => {
    expect(fieldsOf('q,a\n"red, green",blue\n')).toEqual([['q', 'a'], ['red, green', 'blue']]);
  });

  test('turns doubled quotes into one quote', () => {
    expect(fieldsOf('"say ""hi""",x\n')).toEqual([['say "hi"', 'x']]);
    expect(fieldsOf('""""\n')).toEqual([['"']]);
  });

  test('keeps line breaks inside quoted fields and numbers records by their first line', () => {
    const rows = parseCsv('h1,h2\n"line one\nline two",x\n"a\r\nb",y\nlast,z');
    expect(rows.map((r) => r.fields)).toEqual([['h1', 'h2'], ['line one\nline two', 'x'], ['a\r\nb', 'y'], ['last', 'z']]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 4, 6]);
  });

  test('accepts CRLF, LF and lone CR record ends alike', () => {
    expect(fieldsOf('a,b\r\nc,d\re,f\ng,h')).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f'], ['g', 'h']]);
  });

  test('a trailing newline does not add a record; blank lines are skipped but counted', () => {
    const rows = parseCsv('a\n\n\nb\r\n\r\n');
    expect(rows.map((r) => r.fields)).toEqual([['a'], ['b']]);
    expect(rows.map((r) => r.line)).toEqual([1, 4]);
  });

  test('keeps empty fields, including a quoted empty field alone on a line', () => {
    expect(fieldsOf(',,\n""\na,\n')).toEqual([['', '', ''], [''], ['a', '']]);
  });

  test('drops a UTF-8 byte order mark and keeps other Unicode as is', () => {
    expect(fieldsOf('\uFEFFimage,question\nkatze.png,Was ist das? 猫 🐈\n')).toEqual([
      ['image', 'question'],
      ['katze.png', 'Was ist das? 猫 🐈'],
    ]);
  });

  test('keeps spaces around fields (RFC 4180 counts them as content)', () => {
    expect(fieldsOf(' a , b \n')).toEqual([[' a ', ' b ']]);
  });

  test('rejects an unterminated quote, naming the line where it opened', () => {
    const error = catchError(() => parseCsv('a,b\nx,"never closed\nmore\n'));
    expect(error).toBeInstanceOf(CsvSyntaxError);
    expect(error).toMatchObject({ line: 2, column: 3, rule: 'csv-unterminated-quote' });
  });

  test('rejects a quote inside an unquoted field', () => {
    const error = catchError(() => parseCsv('a,b\nsay "hi",x\n'));
    expect(error).toMatchObject({ line: 2, column: 5, rule: 'csv-stray-quote' });
    expect(error.message).toMatch(/line 2, column 5/);
  });

  test('rejects text after a closing quote', () => {
    const error = catchError(() => parseCsv('"a"b,c\n'));
    expect(error).toMatchObject({ line: 1, column: 4, rule: 'csv-text-after-quote' });
  });

  test('counts lines inside quoted fields for later errors', () => {
    const error = catchError(() => parseCsv('"1\n2\r\n3",ok\nbad"quote\n'));
    expect(error).toMatchObject({ line: 4, column: 4 });
  });

  test('round-trips random tables written by an independent RFC 4180 writer', () => {
    const random = seededRandom(20240611);
    const alphabet = ['a', 'Z', ' ', ',', '"', '\n', '\r\n', '\r', 'é', '猫', '0'];
    for (let table = 0; table < 200; table++) {
      const width = 1 + Math.floor(random() * 4);
      const height = 1 + Math.floor(random() * 5);
      const rows = Array.from({ length: height }, () =>
        Array.from({ length: width }, () => Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')),
      );
      // A row of one empty field is a blank line, which the parser skips by design; avoid generating it.
      if (width === 1) rows.forEach((r) => (r[0] = r[0] === '' ? 'x' : r[0]));
      const lineEnd = random() < 0.5 ? '\n' : '\r\n';
      const text = rows.map((r) => r.map(writeField).join(',')).join(lineEnd) + (random() < 0.5 ? lineEnd : '');
      expect(fieldsOf(text)).toEqual(rows);
    }
  });
});

/** Quotes a field only when it needs it, as RFC 4180 writers do. */
function writeField(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}


function catchError(run: () => unknown): Error & Record<string, unknown> {
  try {
    run();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected an error');
}

/**
 * A small RFC 4180 CSV parser: comma-separated fields (or another one-character delimiter:
 * semicolon, tab, pipe; see {@link detectCsvDelimiter}), fields wrapped in double quotes may
 * hold commas, line breaks and doubled quotes (`""` is one `"`). Records end at CRLF, LF or a
 * lone CR. A leading byte-order mark is dropped, and completely empty lines are skipped (so a
 * trailing newline does not make an empty record). Malformed quoting is an error naming the
 * line and column, because guessing would silently shift columns.
 */

/** One CSV record with the 1-based line it starts on. */
export interface CsvRow {
  readonly line: number;
  readonly fields: readonly string[];
}

/** Malformed CSV, with the 1-based line and column where the parser gave up. */
export class CsvSyntaxError extends Error {
  constructor(readonly line: number, readonly column: number, readonly rule: string, message: string) {
    super(`line ${line}, column ${column}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

type State = 'field-start' | 'unquoted' | 'quoted' | 'after-quote';

/** Delimiters that are detected, most common first (a tie goes to the earlier one). */
export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;

/** How a delimiter is written in messages and on the command line. */
export function describeCsvDelimiter(delimiter: string): string {
  return delimiter === '\t' ? 'tab' : delimiter;
}

/**
 * The delimiter of the header row: whichever of {@link CSV_DELIMITERS} occurs most often in the
 * first record outside double quotes (comma when none does). Spreadsheets in many locales save
 * "CSV" with semicolons, and TSV exports use tabs.
 */
export function detectCsvDelimiter(text: string): string {
  const counts = new Map<string, number>(CSV_DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
  }
  let best: string = ',';
  for (const d of CSV_DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

/** Parses CSV text into rows of fields. Rows may differ in length; the caller checks them against the header. */
export function parseCsv(text: string, delimiter: string = ','): CsvRow[] {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new Error(`a CSV delimiter is one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  }
  const rows: CsvRow[] = [];
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let state: State = 'field-start';
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let column = 0;
  let rowLine = 1;
  let rowHasContent = false;
  let quoteLine = 0;
  let quoteColumn = 0;

  const endField = () => {
    fields.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    // A line with nothing on it is not a record (RFC 4180 leaves it undefined; skipping is what people expect).
    if (rowHasContent || fields.length > 1) rows.push({ line: rowLine, fields });
    fields = [];
    rowHasContent = false;
    state = 'field-start';
  };

  for (let i = start; i < text.length; i++) {
    const c = text[i];
    column++;
    const isBreak = c === '\n' || c === '\r';
    // CRLF counts as one line break.
    const breakLength = c === '\r' && text[i + 1] === '\n' ? 2 : 1;

    if (state === 'quoted') {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
          column++;
        } else {
          state = 'after-quote';
        }
      } else if (isBreak) {
        field += text.slice(i, i + breakLength);
        i += breakLength - 1;
        line++;
        column = 0;
      } else {
        field += c;
      }
      continue;
    }

    if (isBreak) {
      endRow();
      i += breakLength - 1;
      line++;
      column = 0;
      rowLine = line;
      continue;
    }

    if (c === delimiter) {
      rowHasContent = true;
      endField();
      state = 'field-start';
      continue;
    }

    switch (state) {
      case 'field-start':
        rowHasContent = true;
        if (c === '"') {
          state = 'quoted';
          quoteLine = line;
          quoteColumn = column;
        } else {
          field += c;
          state = 'unquoted';
        }
        break;
      case 'unquoted':
        if (c === '"') {
          throw new CsvSyntaxError(line, column, 'csv-stray-quote',
            'a double quote inside a field that does not start with one; wrap the whole field in double quotes and write each quote inside it twice ("")');
        }
        field += c;
        break;
      case 'after-quote':
        throw new CsvSyntaxError(line, column, 'csv-text-after-quote',
          `"${c}" after the closing quote of a field; a quoted field must be followed by the delimiter (${describeCsvDelimiter(delimiter)}) or the end of the line (write a quote inside a quoted field as "")`);
    }
  }

  if (state === 'quoted') {
    throw new CsvSyntaxError(quoteLine, quoteColumn, 'csv-unterminated-quote',
      'the quoted field starting here is never closed; add the closing double quote');
  }
  if (rowHasContent || fields.length > 0) endRow();
  return rows;
}

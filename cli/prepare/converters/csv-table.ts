/**
 * Plain CSV data with a header row: one column with the image path (empty for a text-only
 * example), one with the question and one with the answer. Column names are configurable.
 */
import { CsvSyntaxError, describeCsvDelimiter, parseCsv } from '../csv-parser';
import { PrepareDataError, PrepareUsageError } from '../prepare-errors';
import { ConversionProblem, ConversionResult, SourceExample } from '../source-example';

/** Which columns hold what; `image` undefined means the CSV has no images. */
export interface CsvColumns {
  readonly image?: string;
  readonly question: string;
  readonly answer: string;
}

/** The column names used when no flag says otherwise. */
export const DEFAULT_CSV_COLUMNS: Required<CsvColumns> = { image: 'image', question: 'question', answer: 'answer' };

/** Which flag sets which column, for messages. */
const COLUMN_FLAGS: Record<keyof CsvColumns, string> = { image: '--image-column', question: '--question-column', answer: '--answer-column' };

/**
 * Converts CSV text. Pure.
 * @throws PrepareDataError on malformed CSV; PrepareUsageError when a named column is not in the header.
 */
export function convertCsv(text: string, file: string, columns: CsvColumns, delimiter: string = ','): ConversionResult {
  let rows;
  try {
    rows = parseCsv(text, delimiter);
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new PrepareDataError(`${file} ${err.message} [${err.rule}]`);
    throw err;
  }
  if (rows.length === 0) throw new PrepareDataError(`${file} is empty; it needs a header row (e.g. image,question,answer) and one row per example`);
  const [header, ...body] = rows;
  const names = header.fields.map((f) => f.trim());
  const position = (role: keyof CsvColumns): number | undefined => {
    const wanted = columns[role];
    if (wanted === undefined) return undefined;
    let at = names.indexOf(wanted);
    if (at < 0) at = names.findIndex((n) => n.toLowerCase() === wanted.toLowerCase());
    if (at < 0) {
      const textOnly = role === 'image' ? ', or --image-column none for a CSV without images' : '';
      throw new PrepareUsageError(`${file} has no column "${wanted}" (header: ${names.map((n) => JSON.stringify(n)).join(', ')}); name the ${role} column with ${COLUMN_FLAGS[role]}${textOnly}`);
    }
    return at;
  };
  const imageAt = position('image');
  const questionAt = position('question')!;
  const answerAt = position('answer')!;

  const examples: SourceExample[] = [];
  const problems: ConversionProblem[] = [];
  for (const row of body) {
    const location = { file, line: row.line };
    if (row.fields.length !== names.length) {
      problems.push({
        location,
        rule: 'csv-field-count',
        message: `has ${row.fields.length} fields but the header has ${names.length}; wrap fields that contain the delimiter (${describeCsvDelimiter(delimiter)}) in double quotes, or name the delimiter with --delimiter`,
      });
      continue;
    }
    const question = row.fields[questionAt].trim();
    const answer = row.fields[answerAt].trim();
    // An empty answer is kept (a warning, as validate has it: empty-answer.ts); an empty question is not.
    if (question === '') {
      problems.push({ location, rule: 'required-field', message: `column "${names[questionAt]}" is empty; every example needs a question` });
      continue;
    }
    const image = imageAt === undefined ? '' : row.fields[imageAt].trim();
    examples.push({ location, image: image === '' ? undefined : image, turns: [{ question, answer }] });
  }
  return { examples, problems };
}

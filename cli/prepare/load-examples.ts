/**
 * Reads the input files, settles the format (given or told from the content) and runs the
 * matching converter. The only I/O here is reading the input files and checking folders.
 */
import { readFile, stat } from 'fs/promises';
import * as path from 'path';
import { convertChartQa } from './converters/chartqa';
import { convertCsv } from './converters/csv-table';
import { detectCsvDelimiter } from './csv-parser';
import { convertLlava } from './converters/llava';
import { convertVqav2 } from './converters/vqav2';
import { InputFormat, detectJsonFormat, looksLikeCsv } from './input-format';
import { JsonInput, parseJsonInput } from './json-input';
import { FORMAT_SPECIFIC_FLAGS, PrepareOptions } from './prepare-options';
import { PrepareDataError, PrepareUsageError } from './prepare-errors';
import { ConversionResult } from './source-example';

/** The examples of one input, and where their images are. */
export interface LoadedExamples extends ConversionResult {
  readonly format: InputFormat;
  /** Absolute folder that image paths are relative to. */
  readonly imageRoot: string;
  /** CSV input: the delimiter read, and whether it was detected (not given with --delimiter). */
  readonly csvDelimiter?: { readonly value: string; readonly detected: boolean };
}

/** Reads and converts the input the options name. */
export async function loadExamples(options: PrepareOptions): Promise<LoadedExamples> {
  const text = await readInputFile(options.input, 'the input file');
  let json: JsonInput | undefined;
  let format = options.format;
  if (!format) {
    if (looksLikeCsv(options.input, text)) {
      format = 'csv';
    } else {
      json = parseJsonInput(text, options.input);
      const detected = detectJsonFormat(json);
      if ('reason' in detected) {
        throw new PrepareUsageError(`cannot tell the format of ${options.input}: ${detected.reason}; pass --format with one of llava, vqav2, chartqa, csv`);
      }
      format = detected.format;
    }
  }
  for (const flag of options.givenFlags) {
    const owner = FORMAT_SPECIFIC_FLAGS[flag];
    if (owner && owner !== format) {
      throw new PrepareUsageError(`${flag} applies to ${owner} input, but ${options.input} is read as ${format}; drop ${flag} or pass --format ${owner}`);
    }
  }
  const imageRoot = await chooseImageRoot(options, format);
  if (format === 'csv') {
    const csvDelimiter = { value: options.csvDelimiter ?? detectCsvDelimiter(text), detected: options.csvDelimiter === undefined };
    return { format, imageRoot, csvDelimiter, ...convertCsv(text, options.input, options.csvColumns, csvDelimiter.value) };
  }
  return { format, imageRoot, ...(await convert(format, options, text, json)) };
}

async function convert(format: Exclude<InputFormat, 'csv'>, options: PrepareOptions, text: string, json: JsonInput | undefined): Promise<ConversionResult> {
  const input = json ?? parseJsonInput(text, options.input);
  if (format === 'vqav2') {
    if (input.kind !== 'object') {
      throw new PrepareDataError(`${options.input} is a list of examples, not a VQAv2 questions file ({"questions": [...]}); check --format`);
    }
    if (!options.annotations) {
      throw new PrepareUsageError(`--annotations is required for VQAv2 input: the annotations file that goes with ${options.input}, e.g. --annotations v2_mscoco_train2014_annotations.json`);
    }
    const annotations = parseJsonInput(await readInputFile(options.annotations, '--annotations'), options.annotations);
    if (annotations.kind !== 'object') {
      throw new PrepareDataError(`${options.annotations} is not a VQAv2 annotations file ({"annotations": [...]}); check --annotations`);
    }
    return convertVqav2(
      { file: options.input, value: input.value },
      { file: options.annotations, value: annotations.value },
      { imagePattern: options.imagePattern, split: options.vqaSplit },
    );
  }
  // A JSON Lines file with a single line parses as one object: that is one example.
  const items = input.kind === 'items' ? input.items : [{ value: input.value, location: { file: options.input, line: 1 } }];
  return format === 'llava' ? convertLlava(items) : convertChartQa(items);
}

async function readInputFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf-8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PrepareUsageError(`${what} ${file} does not exist; check the path`);
    if (code === 'EISDIR') throw new PrepareUsageError(`${what} ${file} is a folder; name the dataset file itself`);
    throw new PrepareUsageError(`${what} ${file} cannot be read (${code ?? (err as Error).message})`);
  }
}

async function isDirectory(folder: string): Promise<boolean> {
  return stat(folder).then((s) => s.isDirectory(), () => false);
}

/** --images, else the input's folder; ChartQA ships its charts in a png/ folder beside the JSON. */
async function chooseImageRoot(options: PrepareOptions, format: InputFormat): Promise<string> {
  if (options.images) {
    const root = path.resolve(options.images);
    if (!(await isDirectory(root))) throw new PrepareUsageError(`--images ${options.images} is not a folder; give the folder the image paths are relative to`);
    return root;
  }
  const inputFolder = path.dirname(path.resolve(options.input));
  const chartFolder = path.join(inputFolder, 'png');
  if (format === 'chartqa' && (await isDirectory(chartFolder))) return chartFolder;
  return inputFolder;
}

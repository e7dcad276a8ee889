/**
 * End to end: what `llama-finetune prepare` writes passes `llama-finetune validate` and the
 * validation engine, with the images read from the local mirror (--image-root <out>).
 */
import * as path from 'path';
import { runValidate } from '../../cli/commands/validate';
import { runPrepare } from '../../cli/commands/prepare';
import { findModel } from '../../lambda/shared/models/llama-models';
import { LocalImageByteSource, ValidationReport, localDatasetSource, validateDataset } from '../../lambda/shared/validation';
import { FixtureImageFormat } from '../support/images';
import { TempFolder, captureIo, imageOf, readRecords, tempFolder } from './prepare-fixtures';

const ACCOUNT = '111122223333';
const BUCKET = 'finetune-data';
const PREFIX = 'datasets/e2e/';
const FORMATS: FixtureImageFormat[] = ['png', 'jpeg', 'gif', 'webp'];
const EXAMPLES = 150;

let dir: TempFolder;
beforeEach(() => (dir = tempFolder()));
afterEach(() => dir.cleanup());

/** Writes one dataset of EXAMPLES examples in the given format; returns the prepare arguments for it. */
const DATASETS: Record<string, () => string[]> = {
  csv: () => {
    const rows = ['image,question,answer'];
    for (let i = 0; i < EXAMPLES; i++) {
      if (i % 15 === 0) {
        rows.push(`,"What is ${i} plus one, in digits?",${i + 1}`);
        continue;
      }
      const format = FORMATS[i % FORMATS.length];
      // Every tenth image carries the wrong extension: a PNG named .jpg.
      const name = i % 10 === 1 ? `photos/wrong-${i}.jpg` : `photos/p${i}.${format === 'jpeg' ? 'jpg' : format}`;
      dir.image(name, i % 10 === 1 ? 'png' : format, 20 + (i % 30), 16 + (i % 20));
      rows.push(`${name},"How wide is picture ${i}, roughly?",${20 + (i % 30)} pixels`);
    }
    return [dir.write('data.csv', rows.join('\r\n'))];
  },
  llava: () => {
    const examples = Array.from({ length: EXAMPLES }, (_, i) => {
      const hasImage = i % 20 !== 0;
      if (hasImage) dir.image(`coco/${String(i).padStart(12, '0')}.jpg`, 'jpeg', 40, 30);
      return {
        id: String(i),
        ...(hasImage ? { image: `coco/${String(i).padStart(12, '0')}.jpg` } : {}),
        conversations: [
          { from: 'human', value: `${hasImage ? '<image>\n' : ''}Describe scene ${i}.` },
          { from: 'gpt', value: `Scene ${i} shows a grey square.` },
          { from: 'human', value: 'Anything else?' },
          { from: 'gpt', value: `Nothing else in scene ${i}.` },
        ],
      };
    });
    return [dir.write('llava_instruct.json', JSON.stringify(examples)), '--images', dir.path()];
  },
  chartqa: () => {
    const examples = Array.from({ length: EXAMPLES }, (_, i) => {
      dir.image(`ChartQA/train/png/${1000 + i}.png`, 'png', 64, 48);
      return { imgname: `${1000 + i}.png`, query: `What is the highest value in chart ${i}?`, label: String(i) };
    });
    return [dir.write('ChartQA/train/train_augmented.json', JSON.stringify(examples))];
  },
  vqav2: () => {
    const questions = [];
    const annotations = [];
    for (let i = 0; i < EXAMPLES; i++) {
      const imageId = 100 + Math.floor(i / 3);
      if (i % 3 === 0) dir.image(`val2014/COCO_val2014_${String(imageId).padStart(12, '0')}.jpg`, 'jpeg', 48, 32);
      questions.push({ image_id: imageId, question: `Question ${i} about image ${imageId}?`, question_id: i });
      annotations.push({ question_id: i, image_id: imageId, multiple_choice_answer: 'yes', answers: [{ answer: 'yes' }, { answer: 'yeah' }] });
    }
    return [
      dir.write('v2_OpenEnded_mscoco_val2014_questions.json', JSON.stringify({ data_subtype: 'val2014', questions })),
      '--annotations', dir.write('v2_mscoco_val2014_annotations.json', JSON.stringify({ annotations })),
      '--images', dir.path('val2014'),
    ];
  },
};

describe.each(Object.keys(DATASETS))('prepared %s data', (format) => {
  test('passes llama-finetune validate and the engine over all three files', async () => {
    const out = dir.path('out');
    const prepareIo = captureIo();
    const code = await runPrepare(
      [...DATASETS[format](), '--bucket', BUCKET, '--prefix', PREFIX, '--account', ACCOUNT, '--out', out,
        '--system', 'You answer questions about images.', '--prompt-template', 'Answer briefly. {question}', '--seed', format],
      prepareIo,
    );
    expect(prepareIo.err()).not.toMatch(/llama-finetune prepare:/);
    expect(code).toBe(0);

    const files = ['train', 'validation', 'test'].map((s) => path.join(out, `${s}.jsonl`));
    const records = files.map(readRecords);
    expect(records.flat().length).toBe(EXAMPLES);

    // The command, exactly as the prepare summary tells the user to run it: every split, the model, the account.
    const printed = /^Check it: llama-finetune validate (.*)$/m.exec(prepareIo.out())![1].split(' ');
    expect(printed).toEqual([files[0], '--validation', files[1], '--test', files[2], '--model', 'llama3.2-11b', '--account', ACCOUNT, '--image-root', out]);
    let validateOut = '';
    let validateErr = '';
    const validateCode = await runValidate(
      [...printed, '--allow-images', `s3://${BUCKET}/${PREFIX}`, '--json'],
      { stdout: (t) => (validateOut += t), stderr: (t) => (validateErr += t), stderrIsTty: false, createS3Client: () => { throw new Error('validate must not reach S3 here'); } },
    );
    const cliReport = JSON.parse(validateOut) as ValidationReport;
    expect({ code: validateCode, errors: cliReport.problems.errors, stderr: validateErr }).toEqual({ code: 0, errors: [], stderr: '' });
    const allImages = new Set(records.flat().flatMap((r) => (imageOf(r) ? [imageOf(r)!.source.s3Location.uri] : [])));
    expect(cliReport.totals.uniqueImagesChecked).toBe(allImages.size);
    expect(cliReport.files.map((f) => f.role)).toEqual(['training', 'validation', 'test']);

    // The engine over all three files, with their roles, as the workflow would run it.
    const report = await validateDataset({
      model: findModel('llama3.2-11b')!,
      files: (['training', 'validation', 'test'] as const).map((role, i) => ({ role, source: localDatasetSource(files[i]) })),
      imageSource: new LocalImageByteSource(out),
      allowedImageLocations: [`s3://${BUCKET}/${PREFIX}`],
      expectedAccountId: ACCOUNT,
    });
    expect(report.problems.errors).toEqual([]);
    expect(report.valid).toBe(true);
    expect(report.totals.trainingAndValidationRecords).toBe(records[0].length + records[1].length);
    expect(report.totals.imageRecords).toBe(records.flat().filter((r) => imageOf(r)).length);
    // Questions about one image stay in one split, so the same record never appears in two files.
    expect(report.problems.byRule.map((r) => r.rule)).not.toContain('duplicate-across-files');
  });
});

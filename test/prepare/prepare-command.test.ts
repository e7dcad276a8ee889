import { existsSync, readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import { runPrepare } from '../../cli/commands/prepare';
import { CapturedIo, TempFolder, captureIo, firstQuestion, imageOf, readRecords, tempFolder } from './prepare-fixtures';

const ACCOUNT = '111122223333';
let dir: TempFolder;
let io: CapturedIo;
beforeEach(() => {
  dir = tempFolder();
  io = captureIo();
});
afterEach(() => dir.cleanup());

const run = (...args: string[]) => runPrepare(args, io);
const splitFiles = (out: string) => ['train', 'validation', 'test'].map((s) => path.join(out, `${s}.jsonl`)).filter(existsSync);
const allRecords = (out: string) => splitFiles(out).flatMap(readRecords);

function writeChartQa(count: number): string {
  const examples = Array.from({ length: count }, (_, i) => {
    dir.image(`chartqa/train/png/chart${i}.png`, 'png', 40 + i, 30);
    return { imgname: `chart${i}.png`, query: `What is the value of bar ${i}?`, label: String(i * 3) };
  });
  return dir.write('chartqa/train/train_augmented.json', JSON.stringify(examples));
}

describe('llama-finetune prepare', () => {
  test('ChartQA: finds png/ beside the JSON, writes three splits with S3 URIs and mirrors images for validate', async () => {
    const input = writeChartQa(20);
    const out = dir.path('out');
    const code = await run(input, '--bucket', 'data-bucket', '--prefix', 'datasets/chartqa', '--account', '111122223333', '--out', out, '--split', '0.6,0.2,0.2');
    expect(io.err()).not.toMatch(/llama-finetune prepare:/);
    expect(code).toBe(0);

    const counts = ['train', 'validation', 'test'].map((s) => readRecords(path.join(out, `${s}.jsonl`)).length);
    expect(counts).toEqual([12, 4, 4]);
    const records = allRecords(out);
    const labels = records.map((r) => (r.messages[1].content[0] as { text: string }).text).sort((a, b) => Number(a) - Number(b));
    expect(labels).toEqual(Array.from({ length: 20 }, (_, i) => String(i * 3)));
    for (const record of records) {
      const image = imageOf(record)!;
      expect(image.format).toBe('png');
      expect(image.source.s3Location.bucketOwner).toBe('111122223333');
      const match = /^s3:\/\/data-bucket\/datasets\/chartqa\/images\/(chart\d+\.png)$/.exec(image.source.s3Location.uri);
      expect(match).not.toBeNull();
      // validate maps s3://<bucket>/<key> to <image root>/<bucket>/<key>; the image root is <out>.
      const local = path.join(out, 'data-bucket', 'datasets', 'chartqa', 'images', match![1]);
      expect(readFileSync(local)).toEqual(readFileSync(dir.path('chartqa/train/png', match![1])));
    }
    expect(io.out()).toMatch(/train\s+12/);
    expect(io.out()).toMatch(/text-only\s+0 of 20/);
    expect(io.out()).toContain(`--image-root ${out}`);
    // 20 records is below Bedrock's minimum: say so without failing.
    expect(io.err()).toMatch(/warning: train \+ validation hold 16 records; Bedrock needs at least 100/);
    expect(io.err()).not.toMatch(/bucketOwner/);
  });

  test('LLaVA: multi-turn, <image> removed, text-only records, system prompt and template', async () => {
    dir.image('images/coco/1.jpg', 'jpeg');
    dir.image('images/coco/2.jpg', 'jpeg');
    const input = dir.write('llava.json', JSON.stringify([
      { id: 'a', image: 'coco/1.jpg', conversations: [{ from: 'human', value: '<image>\nWhat is this?' }, { from: 'gpt', value: 'A bus.' }, { from: 'human', value: 'Colour?' }, { from: 'gpt', value: 'Red.' }] },
      { id: 'b', image: 'coco/2.jpg', conversations: [{ from: 'human', value: 'Count the cars.\n<image>' }, { from: 'gpt', value: 'Three.' }] },
      { id: 'c', conversations: [{ from: 'human', value: 'What is 2+2?' }, { from: 'gpt', value: '4' }] },
    ]));
    const out = dir.path('out');
    const code = await run(input, '--images', dir.path('images'), '--bucket', 'b-1', '--no-bucket-owner', '--out', out, '--split', '1,0,0',
      '--system', 'You answer questions about images.', '--prompt-template', 'Answer briefly. {question}');
    expect(code).toBe(0);
    const records = readRecords(path.join(out, 'train.jsonl'));
    expect(records).toHaveLength(3);
    expect(existsSync(path.join(out, 'validation.jsonl'))).toBe(false);
    const byQuestion = new Map(records.map((r) => [firstQuestion(r), r]));
    const bus = byQuestion.get('Answer briefly. What is this?')!;
    expect(bus.system).toEqual([{ text: 'You answer questions about images.' }]);
    expect(bus.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(bus.messages[2].content).toEqual([{ text: 'Answer briefly. Colour?' }]);
    expect(imageOf(bus)).toEqual({ format: 'jpeg', source: { s3Location: { uri: 's3://b-1/images/coco/1.jpg' } } });
    expect(imageOf(byQuestion.get('Answer briefly. Count the cars.')!)!.source.s3Location.uri).toBe('s3://b-1/images/coco/2.jpg');
    const textOnly = byQuestion.get('Answer briefly. What is 2+2?')!;
    expect(imageOf(textOnly)).toBeUndefined();
    expect(io.out()).toMatch(/text-only\s+1 of 3 record\(s\) \(33\.3%\)/);
    expect(io.err()).toMatch(/warning: the image references have no bucketOwner.*pass --account/);
  });

  test('VQAv2: joins annotations, COCO names from data_subtype, references sidecar aligned by line', async () => {
    const questions = [];
    const annotations = [];
    for (let image = 1; image <= 6; image++) {
      dir.image(`coco/COCO_val2014_${String(image).padStart(12, '0')}.jpg`, 'jpeg');
      for (let q = 0; q < 2; q++) {
        const id = image * 10 + q;
        questions.push({ image_id: image, question: `Question ${id}?`, question_id: id });
        annotations.push({ question_id: id, image_id: image, multiple_choice_answer: `answer ${id}`, answers: [{ answer: `answer ${id}` }, { answer: `alt ${id}` }] });
      }
    }
    const input = dir.write('v2_OpenEnded_mscoco_val2014_questions.json', JSON.stringify({ data_subtype: 'val2014', questions }));
    const annotationFile = dir.write('v2_mscoco_val2014_annotations.json', JSON.stringify({ annotations }));
    const out = dir.path('out');
    const code = await run(input, '--annotations', annotationFile, '--images', dir.path('coco'), '--bucket', 'b-1', '--account', ACCOUNT, '--out', out, '--split', '0.5,0.5,0');
    expect(io.err().split('\n').filter((l) => l !== '' && !l.startsWith('warning:'))).toEqual([]);
    expect(code).toBe(0);
    const records = allRecords(out);
    expect(records).toHaveLength(12);
    // Both questions about one image land in the same split.
    for (const split of ['train', 'validation']) {
      const uris = readRecords(path.join(out, `${split}.jsonl`)).map((r) => imageOf(r)!.source.s3Location.uri);
      const otherSplit = split === 'train' ? 'validation' : 'train';
      const otherUris = new Set(readRecords(path.join(out, `${otherSplit}.jsonl`)).map((r) => imageOf(r)!.source.s3Location.uri));
      expect(uris.some((u) => otherUris.has(u))).toBe(false);
    }
    const train = readRecords(path.join(out, 'train.jsonl'));
    const sidecar = readFileSync(path.join(out, 'train.references.jsonl'), 'utf-8').trim().split('\n').map((l) => JSON.parse(l));
    expect(sidecar).toHaveLength(train.length);
    sidecar.forEach((entry, i) => {
      const answer = (train[entry.line - 1].messages[1].content[0] as { text: string }).text;
      expect(entry.line).toBe(i + 1);
      expect(entry.references).toEqual([answer, answer.replace('answer', 'alt')]);
      expect(firstQuestion(train[entry.line - 1])).toBe(`Question ${entry.id}?`);
    });
    expect(imageOf(train[0])!.source.s3Location.uri).toMatch(/^s3:\/\/b-1\/images\/COCO_val2014_\d{12}\.jpg$/);
  });

  test('CSV: quoted fields, configurable columns, text-only rows', async () => {
    dir.image('pics/one.webp', 'webp');
    const input = dir.write('data.csv', 'File,Prompt,Reply\r\npics/one.webp,"What is 1,000 + 1?","It is ""1,001"""\r\n,"Multi\nline",plain\r\n');
    const out = dir.path('out');
    expect(await run(input, '--image-column', 'File', '--question-column', 'Prompt', '--answer-column', 'Reply', '--bucket', 'b-1', '--account', ACCOUNT, '--out', out, '--split', '1,0')).toBe(0);
    const records = readRecords(path.join(out, 'train.jsonl'));
    const withImage = records.find((r) => imageOf(r))!;
    expect(firstQuestion(withImage)).toBe('What is 1,000 + 1?');
    expect(withImage.messages[1].content).toEqual([{ text: 'It is "1,001"' }]);
    expect(imageOf(withImage)).toMatchObject({ format: 'webp', source: { s3Location: { uri: 's3://b-1/images/pics/one.webp' } } });
    expect(firstQuestion(records.find((r) => !imageOf(r))!)).toBe('Multi\nline');
  });

  test('JSON Lines input, including a file of a single example', async () => {
    dir.image('c.png', 'png');
    const many = dir.write('many.jsonl', ['{"imgname":"c.png","query":"Q1","label":"1"}', '', '{"imgname":"c.png","query":"Q2","label":"2"}'].join('\n'));
    expect(await run(many, '--bucket', 'b-1', '--account', '111122223333', '--out', dir.path('o1'), '--split', '1,0')).toBe(0);
    expect(readRecords(dir.path('o1', 'train.jsonl')).map(firstQuestion).sort()).toEqual(['Q1', 'Q2']);
    const one = dir.write('one.jsonl', '{"id":"x","conversations":[{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello"}]}\n');
    expect(await run(one, '--bucket', 'b-1', '--account', ACCOUNT, '--out', dir.path('o2'), '--split', '1,0')).toBe(0);
    expect(readRecords(dir.path('o2', 'train.jsonl')).map(firstQuestion)).toEqual(['Hi']);
  });

  test('a .jpg that is really a PNG gets format png, with a warning', async () => {
    dir.image('imgs/photo.jpg', 'png');
    const input = dir.write('d.csv', 'image,question,answer\nphoto.jpg,Q,A\n');
    const out = dir.path('out');
    expect(await run(input, '--images', dir.path('imgs'), '--bucket', 'b-1', '--account', ACCOUNT, '--out', out, '--split', '1,0')).toBe(0);
    expect(imageOf(readRecords(path.join(out, 'train.jsonl'))[0])!.format).toBe('png');
    expect(io.err()).toMatch(/1 image\(s\) have a file extension that does not match their content.*photo\.jpg is png/);
  });

  test('missing images fail by default, naming the line, and nothing is written', async () => {
    dir.image('a.png', 'png');
    const input = dir.write('d.csv', 'image,question,answer\na.png,Q1,A1\nmissing.png,Q2,A2\nnot-image.png,Q3,A3\n');
    dir.write('not-image.png', 'hello');
    const out = dir.path('out');
    expect(await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', out)).toBe(1);
    expect(io.err()).toMatch(/2 example\(s\) refer to 2 missing or unreadable image\(s\).*--on-missing-image skip/);
    expect(io.err()).toMatch(/d\.csv line 3: image .*missing\.png does not exist/);
    expect(io.err()).toMatch(/d\.csv line 4: image .*not-image\.png is not a PNG, JPEG, GIF or WebP/);
    expect(existsSync(out)).toBe(false);
  });

  test('--on-missing-image skip leaves those examples out and counts them', async () => {
    dir.image('a.png', 'png');
    dir.image('b.png', 'png');
    const input = dir.write('d.csv', 'image,question,answer\na.png,Q1,A1\nmissing.png,Q2,A2\nb.png,Q3,A3\nmissing.png,Q4,A4\n');
    const out = dir.path('out');
    expect(await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', out, '--on-missing-image', 'skip', '--split', '1,0')).toBe(0);
    expect(readRecords(path.join(out, 'train.jsonl')).map(firstQuestion).sort()).toEqual(['Q1', 'Q3']);
    expect(io.out()).toMatch(/skipped\s+2 example\(s\) with a missing or unreadable image \(1 image\(s\)\)/);
    expect(io.err()).toMatch(/skipped 2 example\(s\)[\s\S]*d\.csv line 3[\s\S]*d\.csv line 5/);
  });

  test('malformed examples are data errors listed with their index', async () => {
    const input = dir.write('llava.json', JSON.stringify([
      { id: 'ok', conversations: [{ from: 'human', value: 'Q' }, { from: 'gpt', value: 'A' }] },
      { id: 'bad', conversations: [{ from: 'human', value: 'Q' }] },
    ]));
    expect(await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', dir.path('out'))).toBe(1);
    expect(io.err()).toMatch(/1 example\(s\) in .*llava\.json cannot be converted as llava/);
    // The example's own id beside its index, so it can be found in a file of 150,000 examples.
    expect(io.err()).toMatch(/llava\.json \[1\] \(id "bad"\): conversations\[0\] is a human turn with no answer.*\[ends-with-assistant\]/);
  });

  test('the same seed gives the same files; another seed another split', async () => {
    const input = writeChartQa(30);
    await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', dir.path('one'), '--seed', '7');
    await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', dir.path('two'), '--seed', '7');
    await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', dir.path('three'), '--seed', '8');
    const read = (out: string) => ['train', 'validation', 'test'].map((s) => readFileSync(dir.path(out, `${s}.jsonl`), 'utf-8'));
    expect(read('two')).toEqual(read('one'));
    expect(read('three')[0]).not.toEqual(read('one')[0]);
  });

  test('a re-run into the same folder removes a split that became empty', async () => {
    const input = writeChartQa(10);
    const out = dir.path('out');
    expect(await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', out)).toBe(0);
    expect(existsSync(path.join(out, 'test.jsonl'))).toBe(true);
    expect(await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', out, '--split', '0.9,0.1')).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('.jsonl')).sort()).toEqual(['train.jsonl', 'validation.jsonl']);
  });

  test.each([
    [['--bucket', 'b-1'], /--out is required/],
    [['--out', 'o', '--bucket', 'b-1', '--prompt-template', 'no placeholder'], /--prompt-template "no placeholder": must contain \{question\}/],
    [['--out', 'o', '--bucket', 'b-1', '--split', '0.5,0.3,0.3'], /--split: .*sums to 1.1/],
    [['--out', 'o', '--bucket', 'b-1', '--annotations', 'a.json'], /--annotations applies to vqav2 input, but .* is read as csv/],
  ])('bad usage %j exits 2 and names the flag', async (args, message) => {
    const input = dir.write('d.csv', 'image,question,answer\n,Q,A\n');
    expect(await run(input, ...args)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).toContain("Run 'llama-finetune prepare --help'");
  });

  test('an input that does not exist or cannot be told apart is bad usage', async () => {
    expect(await run(dir.path('nope.json'), '--bucket', 'b-1', '--account', ACCOUNT, '--out', dir.path('o'))).toBe(2);
    expect(io.err()).toMatch(/the input file .*nope\.json does not exist/);
    const odd = dir.write('odd.json', JSON.stringify([{ prompt: 'p', completion: 'c' }]));
    expect(await run(odd, '--bucket', 'b-1', '--account', ACCOUNT, '--out', dir.path('o'))).toBe(2);
    expect(io.err()).toMatch(/cannot tell the format of .*odd\.json.*pass --format/);
  });

  test('VQAv2 without --annotations names the flag', async () => {
    const input = dir.write('q.json', JSON.stringify({ data_subtype: 'val2014', questions: [] }));
    expect(await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', dir.path('o'))).toBe(2);
    expect(io.err()).toMatch(/--annotations is required for VQAv2 input/);
  });

  test('--help prints the usage and exits 0', async () => {
    expect(await run('--help')).toBe(0);
    expect(io.out()).toMatch(/--image-root <out>/);
  });
});

describe('llama-finetune prepare: hostile input (issue 10 case 8)', () => {
  test('names from the input reach the terminal with control characters and bidi overrides escaped', async () => {
    const examples = Array.from({ length: 6 }, (_, i) => {
      dir.image(`chartqa/train/png/chart${i}.png`, 'png', 40 + i, 30);
      return { imgname: `chart${i}.png`, query: `What is bar ${i}?`, label: String(i) };
    });
    examples.push({ imgname: 'gone\u001b]0;owned\u0007\u202e.png', query: 'q?', label: '1' });
    const input = dir.write('chartqa/train/train_augmented.json', JSON.stringify(examples));
    const code = await run(input, '--bucket', 'data-bucket', '--prefix', 'p', '--account', '111122223333', '--out', dir.path('out'));
    expect(code).toBe(1); // a missing image is a data error unless --on-missing-image skip
    expect(io.err()).toContain('does not exist');
    expect(io.err()).toContain('gone\\u001b]0;owned\\u0007\\u202e.png');
    expect(io.err()).not.toMatch(/[\u001b\u0007\u202e]/);
  });
});

import { convertChartQa } from '../../cli/prepare/converters/chartqa';
import { convertCsv } from '../../cli/prepare/converters/csv-table';
import { convertLlava } from '../../cli/prepare/converters/llava';
import { convertVqav2 } from '../../cli/prepare/converters/vqav2';
import { parseImageNamePattern } from '../../cli/prepare/image-name-pattern';
import { JsonItem } from '../../cli/prepare/json-input';
import { PrepareDataError, PrepareUsageError } from '../../cli/prepare/prepare-errors';

const items = (values: unknown[], file = 'in.json'): JsonItem[] => values.map((value, index) => ({ value, location: { file, index } }));

describe('convertLlava', () => {
  test('strips <image>, keeps every turn and the image path', () => {
    const result = convertLlava(
      items([
        {
          id: '000000033471',
          image: 'coco/000000033471.jpg',
          conversations: [
            { from: 'human', value: '<image>\nWhat colors are the bus?' },
            { from: 'gpt', value: 'White and red.' },
            { from: 'human', value: 'What is behind it?' },
            { from: 'gpt', value: 'A building.' },
          ],
        },
      ]),
    );
    expect(result.problems).toEqual([]);
    expect(result.examples).toEqual([
      {
        location: { file: 'in.json', index: 0, id: '000000033471' },
        id: '000000033471',
        image: 'coco/000000033471.jpg',
        turns: [
          { question: 'What colors are the bus?', answer: 'White and red.' },
          { question: 'What is behind it?', answer: 'A building.' },
        ],
      },
    ]);
  });

  test('an example without an image becomes text-only; a one-element image list is accepted', () => {
    const result = convertLlava(
      items([
        { id: 1, conversations: [{ from: 'human', value: 'Hi <image> there' }, { from: 'gpt', value: 'Hello' }] },
        { id: 2, image: ['a.png'], conversations: [{ from: 'user', value: 'Q' }, { from: 'assistant', value: 'A' }] },
      ]),
    );
    expect(result.problems).toEqual([]);
    expect(result.examples[0].image).toBeUndefined();
    expect(result.examples[0].turns[0].question).toBe('Hi  there');
    expect(result.examples[0].id).toBe('1');
    expect(result.examples[1].image).toBe('a.png');
  });

  test.each([
    [{ conversations: [{ from: 'human', value: 'Q' }] }, 'ends-with-assistant', /conversations\[0\] is a human turn with no answer/],
    [{ conversations: [{ from: 'gpt', value: 'A' }, { from: 'human', value: 'Q' }] }, 'alternating-turns', /conversations\[0\] has from="gpt" where a "human" turn belongs/],
    [{ conversations: [{ from: 'human', value: 'Q' }, { from: 'human', value: 'Q2' }] }, 'alternating-turns', /conversations\[1\]/],
    [{ conversations: [] }, 'conversations', /non-empty array/],
    [{ image: 'x.png', conversations: [{ from: 'human', value: '<image>' }, { from: 'gpt', value: 'A' }] }, 'turn-text', /empty once "<image>" is removed/],
    [{ image: ['a.png', 'b.png'], conversations: [{ from: 'human', value: 'Q' }, { from: 'gpt', value: 'A' }] }, 'one-image', /has 2 images/],
    [{ image: 7, conversations: [{ from: 'human', value: 'Q' }, { from: 'gpt', value: 'A' }] }, 'image-path', /"image" must be a file path/],
    ['just text', 'example-object', /must be an object/],
  ])('reports %j as %s', (value, rule, message) => {
    const result = convertLlava(items([{ conversations: [{ from: 'human', value: 'ok' }, { from: 'gpt', value: 'ok' }] }, value]));
    expect(result.examples).toHaveLength(1);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ location: { file: 'in.json', index: 1 }, rule });
    expect(result.problems[0].message).toMatch(message);
  });
});

describe('convertChartQa', () => {
  test('reads imgname, query and label (numbers become text)', () => {
    const result = convertChartQa(items([{ imgname: '41699051005347.png', query: 'What is the peak?', label: 14 }, { imgname: 'b.png', query: 'Trend?', label: 'Up' }]));
    expect(result.problems).toEqual([]);
    expect(result.examples.map((e) => [e.image, e.turns])).toEqual([
      ['41699051005347.png', [{ question: 'What is the peak?', answer: '14' }]],
      ['b.png', [{ question: 'Trend?', answer: 'Up' }]],
    ]);
  });

  test('names every missing field of an example', () => {
    const result = convertChartQa(items([{ imgname: 'a.png', label: 3 }, { imgname: 'b.png', query: 'Q', label: '  ' }, { imgname: 'c.png', query: 'Q' }]));
    // An empty label is an empty answer: kept, as validate keeps it (lambda/shared/validation/empty-answer.ts).
    expect(result.examples.map((e) => [e.image, e.turns[0].answer])).toEqual([['b.png', '']]);
    expect(result.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^has no "query"; each ChartQA example needs/),
      expect.stringMatching(/^has no "label"; each ChartQA example needs/),
    ]);
  });
});

describe('convertVqav2', () => {
  const pattern = parseImageNamePattern('COCO_{split}_{image_id:012}.jpg');
  const questions = {
    file: 'q.json',
    value: {
      data_subtype: 'val2014',
      questions: [
        { image_id: 42, question: 'What is on the table?', question_id: 420 },
        { image_id: 42, question: 'How many cups?', question_id: 421 },
      ],
    },
  };
  const annotations = {
    file: 'a.json',
    value: {
      annotations: [
        { question_id: 421, image_id: 42, multiple_choice_answer: '2', answers: [{ answer: '2' }, { answer: 'two' }, { answer: '2' }, { answer: '3' }] },
        { question_id: 420, image_id: 42, multiple_choice_answer: 'cake', answers: [{ answer: 'cake' }] },
      ],
    },
  };

  test('joins by question_id, names images after COCO and keeps distinct answers as references', () => {
    const result = convertVqav2(questions, annotations, { imagePattern: pattern });
    expect(result.problems).toEqual([]);
    expect(result.examples).toEqual([
      { location: { file: 'q.json', index: 0, id: '420' }, id: '420', image: 'COCO_val2014_000000000042.jpg', turns: [{ question: 'What is on the table?', answer: 'cake' }], references: ['cake'] },
      { location: { file: 'q.json', index: 1, id: '421' }, id: '421', image: 'COCO_val2014_000000000042.jpg', turns: [{ question: 'How many cups?', answer: '2' }], references: ['2', 'two', '3'] },
    ]);
  });

  test('an explicit split wins over data_subtype', () => {
    const result = convertVqav2(questions, annotations, { imagePattern: pattern, split: 'train2014' });
    expect(result.examples[0].image).toBe('COCO_train2014_000000000042.jpg');
  });

  test('needs a split when the pattern uses one and the file names none', () => {
    const noSubtype = { file: 'q.json', value: { questions: questions.value.questions } };
    expect(() => convertVqav2(noSubtype, annotations, { imagePattern: pattern })).toThrow(PrepareUsageError);
    expect(() => convertVqav2(noSubtype, annotations, { imagePattern: pattern })).toThrow(/--vqa-split/);
    expect(convertVqav2(noSubtype, annotations, { imagePattern: parseImageNamePattern('{image_id}.jpg') }).examples[0].image).toBe('42.jpg');
  });

  test('reports questions without annotation or with a mismatched image', () => {
    const result = convertVqav2(
      { file: 'q.json', value: { data_subtype: 'x', questions: [{ image_id: 1, question: 'Q', question_id: 999 }, { image_id: 7, question: 'Q', question_id: 420 }, { question: 'Q', question_id: 5 }] } },
      annotations,
      { imagePattern: pattern },
    );
    expect(result.examples).toEqual([]);
    expect(result.problems.map((p) => [p.location.index, p.rule])).toEqual([
      [0, 'annotation-missing'],
      [1, 'annotation-image'],
      [2, 'required-field'],
    ]);
  });

  test('rejects files without their arrays', () => {
    expect(() => convertVqav2({ file: 'q.json', value: {} }, annotations, { imagePattern: pattern })).toThrow(PrepareDataError);
    expect(() => convertVqav2(questions, { file: 'a.json', value: { questions: [] } }, { imagePattern: pattern })).toThrow(/a.json has no "annotations" array/);
  });
});

describe('convertCsv', () => {
  const columns = { image: 'image', question: 'question', answer: 'answer' };

  test('reads rows, with quoted commas and line breaks, empty image cells as text-only', () => {
    const csv = 'image,question,answer\r\nimgs/a.png,"What is 1,000 + 1?","1,001"\r\n,"Say ""hi""","Line one\nline two"\r\n';
    const result = convertCsv(csv, 'data.csv', columns);
    expect(result.problems).toEqual([]);
    expect(result.examples).toEqual([
      { location: { file: 'data.csv', line: 2 }, image: 'imgs/a.png', turns: [{ question: 'What is 1,000 + 1?', answer: '1,001' }] },
      { location: { file: 'data.csv', line: 3 }, image: undefined, turns: [{ question: 'Say "hi"', answer: 'Line one\nline two' }] },
    ]);
  });

  test('finds configured columns in any order and case', () => {
    const result = convertCsv('Answer,File,Prompt\nyes,x.png,Is it?\n', 'd.csv', { image: 'file', question: 'Prompt', answer: 'answer' });
    expect(result.examples[0]).toMatchObject({ image: 'x.png', turns: [{ question: 'Is it?', answer: 'yes' }] });
  });

  test('without an image column every example is text-only', () => {
    const result = convertCsv('question,answer\nQ,A\n', 'd.csv', { question: 'question', answer: 'answer' });
    expect(result.examples[0].image).toBeUndefined();
  });

  test('names the flag when a column is missing', () => {
    expect(() => convertCsv('img,question,answer\n', 'd.csv', columns)).toThrow(PrepareUsageError);
    expect(() => convertCsv('img,question,answer\n', 'd.csv', columns)).toThrow(/no column "image" \(header: "img", "question", "answer"\); name the image column with --image-column/);
  });

  test('reports rows with the wrong field count or an empty question by line; keeps an empty answer', () => {
    const result = convertCsv('image,question,answer\na.png,Q,A\nb.png,Q, with, commas\n"c.png","Q",""\nd.png, ,A\n', 'd.csv', columns);
    expect(result.examples.map((e) => [e.location.line, e.turns[0].answer])).toEqual([[2, 'A'], [4, '']]);
    expect(result.problems.map((p) => [p.location.line, p.rule])).toEqual([
      [3, 'csv-field-count'],
      [5, 'required-field'],
    ]);
    expect(result.problems[1].message).toMatch(/column "question" is empty/);
  });

  test('malformed CSV is a data error naming file and line', () => {
    expect(() => convertCsv('image,question,answer\na.png,"open,x\n', 'd.csv', columns)).toThrow(/d\.csv line 2, column 7: .*never closed/);
  });
});

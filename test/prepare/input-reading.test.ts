import { detectJsonFormat, looksLikeCsv } from '../../cli/prepare/input-format';
import { parseJsonInput } from '../../cli/prepare/json-input';
import { PrepareDataError } from '../../cli/prepare/prepare-errors';

describe('parseJsonInput', () => {
  test('an array gives items with their index', () => {
    const input = parseJsonInput('[{"a":1},{"a":2}]', 'f.json');
    expect(input).toEqual({ kind: 'items', items: [{ value: { a: 1 }, location: { file: 'f.json', index: 0 } }, { value: { a: 2 }, location: { file: 'f.json', index: 1 } }] });
  });

  test('an object stays an object', () => {
    expect(parseJsonInput('\uFEFF{"questions":[]}', 'q.json')).toEqual({ kind: 'object', value: { questions: [] } });
  });

  test('JSON Lines give items with their line, skipping blank lines', () => {
    const input = parseJsonInput('{"a":1}\r\n\n{"a":2}\n', 'f.jsonl');
    expect(input.kind === 'items' && input.items.map((i) => [i.value, i.location.line])).toEqual([[{ a: 1 }, 1], [{ a: 2 }, 3]]);
  });

  test('a broken JSON Lines line is named', () => {
    expect(() => parseJsonInput('{"a":1}\n{"a":\n', 'f.jsonl')).toThrow(/f\.jsonl line 2 is not valid JSON/);
  });

  test('a broken JSON document names line and column', () => {
    expect(() => parseJsonInput('[\n  {"a": 1},\n  {"a" 2}\n]', 'f.json')).toThrow(/f\.json is not valid JSON: .*\(line 3, column 8\)/);
  });

  test('empty and scalar files are data errors', () => {
    expect(() => parseJsonInput('  ', 'f.json')).toThrow(PrepareDataError);
    expect(() => parseJsonInput('42', 'f.json')).toThrow(/single JSON number/);
  });
});

describe('format detection', () => {
  test('CSV by extension or by content', () => {
    expect(looksLikeCsv('data.CSV', '[')).toBe(true);
    expect(looksLikeCsv('data', 'image,question,answer\n')).toBe(true);
    expect(looksLikeCsv('data', '  [ {}]')).toBe(false);
    expect(looksLikeCsv('data.jsonl', 'x')).toBe(false);
  });

  test('tells LLaVA, ChartQA and VQAv2 apart by their fields', () => {
    expect(detectJsonFormat(parseJsonInput('[{"id":"1","conversations":[]}]', 'f'))).toEqual({ format: 'llava' });
    expect(detectJsonFormat(parseJsonInput('[{"imgname":"a.png","query":"q","label":"l"}]', 'f'))).toEqual({ format: 'chartqa' });
    expect(detectJsonFormat(parseJsonInput('{"data_subtype":"val2014","questions":[]}', 'f'))).toEqual({ format: 'vqav2' });
    // A JSON Lines file of one example is a single object.
    expect(detectJsonFormat(parseJsonInput('{"id":"1","conversations":[]}\n', 'f.jsonl'))).toEqual({ format: 'llava' });
    expect(detectJsonFormat(parseJsonInput('{"imgname":"a.png","query":"q","label":"l"}', 'f.jsonl'))).toEqual({ format: 'chartqa' });
  });

  test('explains what it could not tell', () => {
    expect(detectJsonFormat(parseJsonInput('{"annotations":[]}', 'f'))).toEqual({ reason: expect.stringMatching(/annotations file; pass the questions file/) });
    expect(detectJsonFormat(parseJsonInput('[{"prompt":"p","completion":"c"}]', 'f'))).toEqual({ reason: expect.stringMatching(/fields prompt, completion/) });
    expect(detectJsonFormat(parseJsonInput('[1,2]', 'f'))).toEqual({ reason: 'it holds no JSON objects' });
  });
});

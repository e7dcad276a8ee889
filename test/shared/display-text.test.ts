import { describeValue, quoted, safeText } from '../../lambda/shared/display-text';
import { escapeMarkdown } from '../../lambda/shared/report/markdown-escape';
import { exceedsJsonDepth } from '../../lambda/shared/json-depth';

describe('safeText', () => {
  it.each([
    ['ESC (terminal escape sequences)', '\u001b[2J\u001b]0;title\u0007', '\\u001b[2J\\u001b]0;title\\u0007'],
    ['C0 controls and DEL', 'a\u0000b\u0008c\u007f', 'a\\u0000b\\u0008c\\u007f'],
    ['line breaks and tabs', 'a\nb\r\tc', 'a\\nb\\r\\tc'],
    ['C1 controls (CSI 0x9b)', '\u009b31m\u0085', '\\u009b31m\\u0085'],
    ['bidi overrides, isolates and marks', '\u202eabc\u2066d\u2069\u200f\u061c', '\\u202eabc\\u2066d\\u2069\\u200f\\u061c'],
    ['line and paragraph separators', 'a\u2028b\u2029', 'a\\u2028b\\u2029'],
    ['lone surrogates', 'a\ud800b\udc00', 'a\\ud800b\\udc00'],
  ])('escapes %s visibly', (_what, input, shown) => {
    expect(safeText(input)).toBe(shown);
  });

  it('leaves printable text, including non-Latin scripts and emoji, as it is, and is idempotent', () => {
    const text = 'café 日本語 😀 "quoted" \\back';
    expect(safeText(text)).toBe(text);
    const once = safeText('\u001b[31mred\u202e');
    expect(safeText(once)).toBe(once);
  });

  it('keeps line breaks when asked, escaping everything else', () => {
    expect(safeText('line 1\nline\u001b 2\r\n', { keepLineBreaks: true })).toBe('line 1\nline\\u001b 2\\r\n');
  });

  it('cuts long text, giving its length, without splitting a surrogate pair or an escape', () => {
    expect(safeText('x'.repeat(1_000_000), { maxChars: 10 })).toBe('xxxxxxxxxx... (1,000,000 characters in all)');
    expect(safeText('abc😀', { maxChars: 4 })).toBe('abc... (5 characters in all)');
    // The bound holds after escaping: 100 ESC characters become 3 whole escapes within 20 characters.
    expect(safeText('\u001b'.repeat(100), { maxChars: 20 })).toBe('\\u001b\\u001b\\u001b... (100 characters in all)');
    expect(safeText('fits', { maxChars: 4 })).toBe('fits');
  });
});

describe('describeValue and quoted', () => {
  it('describes any JSON value briefly and safely, however deeply nested', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(describeValue(deep)).toBe('a list of 1 item ([[[[...]]]])');
    expect(describeValue({ a: { b: { c: { d: 1 } } } })).toBe('an object ({"a":{"b":{"c":{...}}}})');
    expect(describeValue(Infinity)).toBe('a number too large to represent');
    expect(describeValue('\u001b[2J')).toBe('"\\u001b[2J"');
    expect(describeValue('y'.repeat(10_000)).length).toBeLessThan(200);
    expect(quoted('k\u202e')).toBe('"k\\u202e"');
  });
});

describe('exceedsJsonDepth', () => {
  it('measures nesting without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = { a: deep };
    expect(exceedsJsonDepth(deep, 32)).toBe(true);
    expect(exceedsJsonDepth([[[1]]], 3)).toBe(false);
    expect(exceedsJsonDepth([[[[1]]]], 3)).toBe(true);
    expect(exceedsJsonDepth('text', 0)).toBe(false);
  });
});

describe('escapeMarkdown (report.md quotes test records)', () => {
  it('shows control characters and bidi overrides escaped, and the escape renders as written', () => {
    expect(escapeMarkdown('a\u001b[2J*b*\u202e\nc')).toBe('a\\\\u001b\\[2J\\*b\\*\\\\u202e c');
  });
});

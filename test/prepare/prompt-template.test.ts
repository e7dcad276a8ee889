import { PromptTemplateError, parsePromptTemplate } from '../../cli/prepare/prompt-template';

describe('parsePromptTemplate', () => {
  test('puts the question where {question} is', () => {
    expect(parsePromptTemplate('Answer briefly. {question}').apply('What is shown?')).toBe('Answer briefly. What is shown?');
    expect(parsePromptTemplate('{question} (one word)').apply('Colour?')).toBe('Colour? (one word)');
  });

  test('fills every {question}', () => {
    expect(parsePromptTemplate('{question} / {question}').apply('Q')).toBe('Q / Q');
  });

  test('writes {{ and }} as literal braces and leaves braces in the question alone', () => {
    const template = parsePromptTemplate('Reply as JSON {{"answer": ...}}. {question}');
    expect(template.apply('Is {x} set?')).toBe('Reply as JSON {"answer": ...}. Is {x} set?');
  });

  test('keeps the source text', () => {
    expect(parsePromptTemplate('A {question}').source).toBe('A {question}');
  });

  test.each([
    ['Answer briefly.', /must contain \{question\}/],
    ['', /must contain \{question\}/],
    ['Answer {qustion}', /unknown placeholder \{qustion\} at character 8/],
    ['Answer {Question}', /unknown placeholder \{Question\}/],
    ['Answer {question', /never closed/],
    ['Answer } {question}', /"}" at character 8 has no opening brace/],
    ['{{question}}', /must contain \{question\}/],
  ])('rejects %j', (source, message) => {
    expect(() => parsePromptTemplate(source)).toThrow(PromptTemplateError);
    expect(() => parsePromptTemplate(source)).toThrow(message);
  });
});

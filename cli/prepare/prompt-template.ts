/**
 * The --prompt-template option: text around each question, e.g. "Answer briefly. {question}".
 * `{question}` is the only placeholder; `{{` and `}}` write literal braces. Anything else in
 * braces is rejected, because a typo such as `{qustion}` would otherwise reach every record.
 */

/** A checked prompt template. */
export interface PromptTemplate {
  /** The template as the user wrote it. */
  readonly source: string;
  /** The template with the question filled in. */
  apply(question: string): string;
}

/** Why a template was rejected, with what to write instead. */
export class PromptTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptTemplateError';
  }
}

const PLACEHOLDER = 'question';

/**
 * Parses and checks a template.
 * @throws PromptTemplateError when {question} is missing, a placeholder is unknown or a brace is unmatched.
 */
export function parsePromptTemplate(source: string): PromptTemplate {
  // Literal text pieces; a question goes between each consecutive pair.
  const pieces: string[] = [];
  let literal = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '{' && source[i + 1] === '{') {
      literal += '{';
      i++;
    } else if (c === '}' && source[i + 1] === '}') {
      literal += '}';
      i++;
    } else if (c === '{') {
      const close = source.indexOf('}', i + 1);
      if (close < 0) {
        throw new PromptTemplateError(`the "{" at character ${i + 1} is never closed; write {question}, or {{ for a literal brace`);
      }
      const name = source.slice(i + 1, close);
      if (name !== PLACEHOLDER) {
        throw new PromptTemplateError(`unknown placeholder {${name}} at character ${i + 1}; the only placeholder is {question} (write {{ and }} for literal braces)`);
      }
      pieces.push(literal);
      literal = '';
      i = close;
    } else if (c === '}') {
      throw new PromptTemplateError(`the "}" at character ${i + 1} has no opening brace; write }} for a literal brace`);
    } else {
      literal += c;
    }
  }
  pieces.push(literal);
  if (pieces.length < 2) {
    throw new PromptTemplateError('must contain {question} where the question goes, e.g. "Answer briefly. {question}"');
  }
  return {
    source,
    apply: (question: string) => pieces.join(question),
  };
}

/**
 * The format-neutral shape every converter produces: one example with its question/answer
 * turns, an optional image path and where in the input it came from. Later steps (split,
 * record building, writing) only ever see this shape.
 */

/** Where an example came from: the file plus its line (CSV, JSON Lines) or array index (JSON). */
export interface SourceLocation {
  readonly file: string;
  /** 1-based line number, for line-oriented inputs. */
  readonly line?: number;
  /** 0-based position in a JSON array, for array inputs. */
  readonly index?: number;
  /** The example's own id in the source (LLaVA `id`, VQAv2 `question_id`), cited beside the position. */
  readonly id?: string;
}

/** One question and its answer (a user turn followed by an assistant turn). */
export interface ExampleTurn {
  readonly question: string;
  readonly answer: string;
}

/** One training example before it becomes a Bedrock record. */
export interface SourceExample {
  readonly location: SourceLocation;
  /** The dataset's own id when it has one (LLaVA id, VQAv2 question_id), for messages and sidecars. */
  readonly id?: string;
  /** The image path as the dataset gives it, relative to the image folder (or absolute); absent for text-only examples. */
  readonly image?: string;
  /** The conversation, at least one turn; the image belongs to the first question. */
  readonly turns: readonly ExampleTurn[];
  /** Every acceptable answer to the last question (e.g. VQAv2's annotator answers), kept for evaluation. */
  readonly references?: readonly string[];
}

/** One thing wrong with one input example. */
export interface ConversionProblem {
  readonly location: SourceLocation;
  /** A stable rule id, e.g. `missing-field`. */
  readonly rule: string;
  readonly message: string;
}

/** What a converter returns: the examples it could read and the problems of the rest. */
export interface ConversionResult {
  readonly examples: SourceExample[];
  readonly problems: ConversionProblem[];
}

/** Formats a location for messages: `data.csv line 12`, `llava.json [3]`, `llava.json [3] (id "000000033471")`. */
export function describeLocation(location: SourceLocation): string {
  const id = location.id !== undefined ? ` (id ${JSON.stringify(location.id)})` : '';
  if (location.line !== undefined) return `${location.file} line ${location.line}${id}`;
  if (location.index !== undefined) return `${location.file} [${location.index}]${id}`;
  return `${location.file}${id}`;
}

/** Formats a problem as one message line. */
export function describeProblem(problem: ConversionProblem): string {
  return `${describeLocation(problem.location)}: ${problem.message} [${problem.rule}]`;
}

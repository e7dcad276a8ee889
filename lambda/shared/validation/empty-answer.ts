/**
 * The one policy for empty answers, applied by `llama-finetune prepare` (while converting) and
 * by the validation engine (`validate` and the workflow) alike:
 *
 * An assistant answer that is empty or only whitespace is a warning (rule `answer-empty`), not
 * an error. Bedrock accepts such a record, but a model trained on it learns to answer with
 * nothing, so both tell the user where each one is; neither drops nor rejects the example.
 * A question is not covered: an empty question stays an error wherever it is checked.
 */
import { RuleId } from './rules';

/** The rule both report. */
export const EMPTY_ANSWER_RULE: RuleId = 'answer-empty';

/** Whether an answer counts as empty: no text, or only whitespace. */
export function isEmptyAnswer(answer: string): boolean {
  return answer.trim() === '';
}

/** What to do about it, in the words both use. */
export const EMPTY_ANSWER_ADVICE = 'the model would learn to answer with nothing. Write the answer you want, or drop the record';

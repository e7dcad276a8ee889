/**
 * VQAv2 style data: a questions file `{data_subtype?, questions: [{image_id, question,
 * question_id}]}` joined by question_id with an annotations file `{annotations: [{question_id,
 * image_id, multiple_choice_answer, answers: [{answer}]}]}`; images named by id (COCO names by
 * default). The training answer is multiple_choice_answer (the annotators' most common answer);
 * all distinct annotator answers are kept as references for evaluation.
 */
import { PrepareDataError, PrepareUsageError } from '../prepare-errors';
import { ImageNamePattern } from '../image-name-pattern';
import { ConversionProblem, ConversionResult, SourceExample, SourceLocation } from '../source-example';
import { describeJsonType, isJsonObject, readAnswer, readText } from './field-readers';

/** One parsed VQAv2 file. */
export interface Vqav2File {
  readonly file: string;
  readonly value: Record<string, unknown>;
}

/** How image names are formed. */
export interface Vqav2Options {
  readonly imagePattern: ImageNamePattern;
  /** The COCO split for {split}; defaults to the questions file's data_subtype. */
  readonly split?: string;
}

/** The COCO split a questions file declares (VQAv2 files carry `data_subtype`, e.g. train2014). */
export function declaredVqav2Split(questions: Vqav2File): string | undefined {
  const subtype = questions.value.data_subtype;
  return typeof subtype === 'string' && subtype.trim() !== '' ? subtype.trim() : undefined;
}

/**
 * Joins questions with annotations. Pure.
 * @throws PrepareDataError when a file lacks its array; PrepareUsageError when {split} is needed and unknown.
 */
export function convertVqav2(questions: Vqav2File, annotations: Vqav2File, options: Vqav2Options): ConversionResult {
  const questionList = questions.value.questions;
  if (!Array.isArray(questionList)) {
    throw new PrepareDataError(`${questions.file} has no "questions" array; pass the VQAv2 questions file (e.g. v2_OpenEnded_mscoco_train2014_questions.json) as the input`);
  }
  const annotationList = annotations.value.annotations;
  if (!Array.isArray(annotationList)) {
    throw new PrepareDataError(`${annotations.file} has no "annotations" array; pass the VQAv2 annotations file (e.g. v2_mscoco_train2014_annotations.json) with --annotations`);
  }
  const split = options.split ?? declaredVqav2Split(questions);
  if (options.imagePattern.usesSplit && !split) {
    throw new PrepareUsageError(`${questions.file} does not name its COCO split (no "data_subtype"), and the image pattern ${options.imagePattern.source} needs {split}; pass --vqa-split, e.g. --vqa-split train2014, or an --image-pattern without {split}`);
  }

  const byQuestionId = new Map<string, { value: Record<string, unknown>; index: number }>();
  annotationList.forEach((value, index) => {
    if (isJsonObject(value) && (typeof value.question_id === 'number' || typeof value.question_id === 'string')) {
      byQuestionId.set(String(value.question_id), { value, index });
    }
  });

  const examples: SourceExample[] = [];
  const problems: ConversionProblem[] = [];
  questionList.forEach((raw, index) => {
    let location: SourceLocation = { file: questions.file, index };
    const problem = (rule: string, message: string): void => {
      problems.push({ location, rule, message });
    };
    if (!isJsonObject(raw)) return problem('example-object', `must be an object {image_id, question, question_id}, got ${describeJsonType(raw)}`);
    const questionId = raw.question_id;
    if (typeof questionId !== 'number' && typeof questionId !== 'string') return problem('required-field', 'has no "question_id"');
    // From here on, messages cite the question's own id beside its index.
    location = { ...location, id: String(questionId) };
    const imageId = raw.image_id;
    if (typeof imageId !== 'number' || !Number.isInteger(imageId) || imageId < 0) {
      return problem('required-field', `"image_id" must be a whole number, got ${describeJsonType(imageId)}`);
    }
    const question = readText(raw, 'question');
    if ('problem' in question) return problem('required-field', question.problem);

    const annotation = byQuestionId.get(String(questionId));
    if (!annotation) return problem('annotation-missing', `question_id ${questionId} has no entry in ${annotations.file}; use the annotations file of the same split`);
    const answer = readAnswer(annotation.value, 'multiple_choice_answer');
    if ('problem' in answer) return problem('annotation-answer', `${annotations.file} [${annotation.index}] ${answer.problem}`);
    if (annotation.value.image_id !== undefined && annotation.value.image_id !== imageId) {
      return problem('annotation-image', `image_id ${imageId} differs from ${annotations.file} [${annotation.index}] (image_id ${JSON.stringify(annotation.value.image_id)}); the two files do not belong together`);
    }

    examples.push({
      location,
      id: String(questionId),
      image: options.imagePattern.format({ imageId, split }),
      turns: [{ question: question.value, answer: answer.value }],
      references: distinctAnswers(answer.value, annotation.value.answers),
    });
  });
  return { examples, problems };
}

/** The training answer first, then every other distinct annotator answer. */
function distinctAnswers(chosen: string, raw: unknown): string[] {
  const answers = [chosen];
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const text = isJsonObject(entry) && typeof entry.answer === 'string' ? entry.answer.trim() : '';
      if (text !== '' && !answers.includes(text)) answers.push(text);
    }
  }
  return answers;
}

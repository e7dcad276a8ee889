/**
 * ChartQA style data: a JSON array (or JSON Lines) of `{imgname, query, label}`, with the chart
 * images in a folder (ChartQA ships them in `<split>/png/`).
 */
import { JsonItem } from '../json-input';
import { ConversionProblem, ConversionResult, SourceExample } from '../source-example';
import { describeJsonType, isJsonObject, readAnswer, readText } from './field-readers';

/** Converts ChartQA items. Pure. */
export function convertChartQa(items: readonly JsonItem[]): ConversionResult {
  const examples: SourceExample[] = [];
  const problems: ConversionProblem[] = [];
  for (const item of items) {
    const record = item.value;
    if (!isJsonObject(record)) {
      problems.push({ location: item.location, rule: 'example-object', message: `must be an object {imgname, query, label}, got ${describeJsonType(record)}` });
      continue;
    }
    const image = readText(record, 'imgname');
    const question = readText(record, 'query');
    const answer = readAnswer(record, 'label');
    const missing = [image, question, answer].flatMap((r) => ('problem' in r ? [r.problem] : []));
    if (missing.length > 0 || !('value' in image) || !('value' in question) || !('value' in answer)) {
      problems.push({ location: item.location, rule: 'required-field', message: `${missing.join('; ')}; each ChartQA example needs imgname, query and label` });
      continue;
    }
    examples.push({ location: item.location, image: image.value, turns: [{ question: question.value, answer: answer.value }] });
  }
  return { examples, problems };
}

import { SCHEMA_VERSION } from '../../lambda/shared/bedrock-record';
import { parsePromptTemplate } from '../../cli/prepare/prompt-template';
import { buildConversationRecord } from '../../cli/prepare/record-builder';
import { SourceExample } from '../../cli/prepare/source-example';

const example: SourceExample = {
  location: { file: 'x.json', index: 0 },
  image: 'a.png',
  turns: [
    { question: 'What is it?', answer: 'A cat.' },
    { question: 'What colour?', answer: 'Grey.' },
  ],
};

describe('buildConversationRecord', () => {
  test('alternates user and assistant, with the image after the first question', () => {
    const record = buildConversationRecord(example, { uri: 's3://b/images/a.png', format: 'png', bucketOwner: '111122223333' }, {});
    expect(record).toEqual({
      schemaVersion: SCHEMA_VERSION,
      messages: [
        {
          role: 'user',
          content: [{ text: 'What is it?' }, { image: { format: 'png', source: { s3Location: { uri: 's3://b/images/a.png', bucketOwner: '111122223333' } } } }],
        },
        { role: 'assistant', content: [{ text: 'A cat.' }] },
        { role: 'user', content: [{ text: 'What colour?' }] },
        { role: 'assistant', content: [{ text: 'Grey.' }] },
      ],
    });
  });

  test('adds the system prompt and applies the template to every question', () => {
    const record = buildConversationRecord(example, undefined, { system: 'Be brief.', promptTemplate: parsePromptTemplate('Answer briefly. {question}') });
    expect(record.system).toEqual([{ text: 'Be brief.' }]);
    const questions = record.messages.filter((m) => m.role === 'user').map((m) => m.content);
    expect(questions).toEqual([[{ text: 'Answer briefly. What is it?' }], [{ text: 'Answer briefly. What colour?' }]]);
  });

  test('leaves bucketOwner out when no account is given', () => {
    const record = buildConversationRecord(example, { uri: 's3://b/k.jpg', format: 'jpeg' }, {});
    const image = record.messages[0].content[1] as { image: { source: { s3Location: object } } };
    expect(image.image.source.s3Location).toEqual({ uri: 's3://b/k.jpg' });
    expect('system' in record).toBe(false);
  });
});

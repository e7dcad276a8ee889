/**
 * LocalSsm with the real @aws-sdk/client-ssm: versions, overwrite rules, the Standard value limit,
 * reserved and malformed names, paths and their pagination, history, and the call log's actions.
 */
import { GetParameterCommand, GetParameterHistoryCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { LocalSsm, MAX_STANDARD_VALUE_BYTES } from '../support/local-ssm';

describe('LocalSsm', () => {
  let ssm: LocalSsm;
  let client: SSMClient;
  beforeAll(async () => {
    ssm = await LocalSsm.start();
    client = new SSMClient({ endpoint: ssm.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'writer', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    client.destroy();
    await ssm.stop();
  });

  test('versions count up; writing an existing name needs Overwrite; GetParameter returns the newest with its ARN', async () => {
    expect(await client.send(new PutParameterCommand({ Name: '/team/models/a', Value: 'v1', Type: 'String' }))).toMatchObject({ Version: 1, Tier: 'Standard' });
    await expect(client.send(new PutParameterCommand({ Name: '/team/models/a', Value: 'v2', Type: 'String' }))).rejects.toMatchObject({ name: 'ParameterAlreadyExists' });
    expect(await client.send(new PutParameterCommand({ Name: '/team/models/a', Value: 'v2', Type: 'String', Overwrite: true }))).toMatchObject({ Version: 2 });
    const got = await client.send(new GetParameterCommand({ Name: '/team/models/a' }));
    expect(got.Parameter).toMatchObject({ Name: '/team/models/a', Value: 'v2', Version: 2, Type: 'String', ARN: 'arn:aws:ssm:us-west-2:111122223333:parameter/team/models/a' });
    expect(got.Parameter!.LastModifiedDate).toBeInstanceOf(Date);
    const history = await client.send(new GetParameterHistoryCommand({ Name: '/team/models/a' }));
    expect(history.Parameters!.map((p) => p.Value)).toEqual(['v1', 'v2']);
    await expect(client.send(new GetParameterCommand({ Name: '/team/models/missing' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    expect(ssm.callLog.entries({ operation: 'PutParameter' })[0]).toMatchObject({ action: 'ssm:PutParameter', resources: ['arn:aws:ssm:us-west-2:111122223333:parameter/team/models/a'], principal: 'writer' });
  });

  test('what Parameter Store refuses: values over 4 KB (Standard), reserved and malformed names, tags with overwrite', async () => {
    await expect(client.send(new PutParameterCommand({ Name: '/team/big', Value: 'x'.repeat(MAX_STANDARD_VALUE_BYTES + 1), Type: 'String' }))).rejects.toThrow(/maximum parameter value of 4096/);
    await expect(client.send(new PutParameterCommand({ Name: '/aws/reserved', Value: 'x', Type: 'String' }))).rejects.toThrow(/may not begin with aws or ssm/);
    await expect(client.send(new PutParameterCommand({ Name: '/team/has space', Value: 'x', Type: 'String' }))).rejects.toThrow(/only letters, digits/);
    await expect(client.send(new PutParameterCommand({ Name: `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, Value: 'x', Type: 'String' }))).rejects.toMatchObject({ name: 'HierarchyLevelLimitExceededException' });
    await expect(client.send(new PutParameterCommand({ Name: '/team/t', Value: 'x', Type: 'String', Overwrite: true, Tags: [{ Key: 'a', Value: 'b' }] }))).rejects.toThrow(/tags and overwrite can't be used together/);
  });

  test('GetParametersByPath: one level unless recursive, at most 10 a page, with a token to go on', async () => {
    for (let i = 0; i < 12; i++) await client.send(new PutParameterCommand({ Name: `/paged/models/m${String(i).padStart(2, '0')}`, Value: String(i), Type: 'String' }));
    await client.send(new PutParameterCommand({ Name: '/paged/models/deeper/x', Value: 'deep', Type: 'String' }));
    const first = await client.send(new GetParametersByPathCommand({ Path: '/paged/models' }));
    expect(first.Parameters).toHaveLength(10);
    expect(first.Parameters!.map((p) => p.Name)).not.toContain('/paged/models/deeper/x');
    const second = await client.send(new GetParametersByPathCommand({ Path: '/paged/models', NextToken: first.NextToken }));
    expect([...first.Parameters!, ...second.Parameters!].map((p) => p.Name)).toEqual(Array.from({ length: 12 }, (_, i) => `/paged/models/m${String(i).padStart(2, '0')}`));
    expect(second.NextToken).toBeUndefined();
    const recursive = await client.send(new GetParametersByPathCommand({ Path: '/paged/models', Recursive: true, MaxResults: 10 }));
    expect(recursive.Parameters!.map((p) => p.Name)).toContain('/paged/models/deeper/x');
    await expect(client.send(new GetParametersByPathCommand({ Path: '/paged', MaxResults: 11 }))).rejects.toThrow(/less than or equal to 10/);
    expect(ssm.callLog.entries({ operation: 'GetParametersByPath' })[0].resources).toEqual(['arn:aws:ssm:us-west-2:111122223333:parameter/paged/models']);
  });
});

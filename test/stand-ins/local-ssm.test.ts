/**
 * LocalSsm with the real @aws-sdk/client-ssm: versions, overwrite rules, tiers and their value
 * limits, the 100-version limit, name rules on every operation, selectors, paths and their
 * pagination (no promised order, best-effort pages, tokens bound to their request), history
 * pagination, SecureString values, and the call log's actions. Each rule is AWS's (API
 * Reference and the SDK's documentation of PutParameterRequest, GetParametersByPath,
 * ParameterMaxVersionLimitExceeded): the stand-in must be no more lenient than Parameter Store.
 */
import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersByPathCommandInput,
  Parameter,
  PutParameterCommand,
  PutParameterCommandInput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { LocalSsm, MAX_ADVANCED_VALUE_BYTES, MAX_NAME_WITH_ARN_PREFIX, MAX_PARAMETER_VERSIONS, MAX_STANDARD_VALUE_BYTES } from '../support/local-ssm';

describe('LocalSsm', () => {
  let ssm: LocalSsm;
  let client: SSMClient;
  const put = (input: Partial<PutParameterCommandInput> & { Name: string }) => client.send(new PutParameterCommand({ Value: 'x', Type: 'String', ...input }));
  const allPages = async (input: GetParametersByPathCommandInput) => {
    const pages: Parameter[][] = [];
    let NextToken: string | undefined;
    do {
      const page = await client.send(new GetParametersByPathCommand({ ...input, NextToken }));
      pages.push(page.Parameters ?? []);
      NextToken = page.NextToken;
    } while (NextToken);
    return pages;
  };

  beforeAll(async () => {
    ssm = await LocalSsm.start();
    client = new SSMClient({ endpoint: ssm.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'writer', secretAccessKey: 'x' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await ssm.stop();
  });

  test('versions count up; writing an existing name needs Overwrite; GetParameter returns the newest with its ARN', async () => {
    expect(await put({ Name: '/team/models/a', Value: 'v1' })).toMatchObject({ Version: 1, Tier: 'Standard' });
    await expect(put({ Name: '/team/models/a', Value: 'v2' })).rejects.toMatchObject({ name: 'ParameterAlreadyExists' });
    expect(await put({ Name: '/team/models/a', Value: 'v2', Overwrite: true })).toMatchObject({ Version: 2 });
    const got = await client.send(new GetParameterCommand({ Name: '/team/models/a' }));
    expect(got.Parameter).toMatchObject({ Name: '/team/models/a', Value: 'v2', Version: 2, Type: 'String', ARN: 'arn:aws:ssm:us-west-2:111122223333:parameter/team/models/a' });
    expect(got.Parameter!.LastModifiedDate).toBeInstanceOf(Date);
    const history = await client.send(new GetParameterHistoryCommand({ Name: '/team/models/a' }));
    expect(history.Parameters!.map((p) => p.Value)).toEqual(['v1', 'v2']);
    await expect(client.send(new GetParameterCommand({ Name: '/team/models/missing' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    expect(ssm.callLog.entries({ operation: 'PutParameter' })[0]).toMatchObject({ action: 'ssm:PutParameter', resources: ['arn:aws:ssm:us-west-2:111122223333:parameter/team/models/a'], principal: 'writer' });
  });

  test('a type is required to create a parameter, not to overwrite one', async () => {
    await expect(client.send(new PutParameterCommand({ Name: '/team/untyped', Value: 'x' }))).rejects.toThrow('A parameter type is required when you create a parameter.');
    await put({ Name: '/team/typed', Type: 'StringList', Value: 'a,b' });
    await client.send(new PutParameterCommand({ Name: '/team/typed', Value: 'c', Overwrite: true }));
    expect(ssm.parameter('/team/typed')).toMatchObject({ type: 'StringList', value: 'c', version: 2 });
  });

  test('value limits: Standard 4 KB and Advanced 8 KB in UTF-8 bytes; Intelligent-Tiering picks; Advanced never goes back to Standard', async () => {
    // 2,049 characters but 4,098 bytes: over the Standard limit.
    await expect(put({ Name: '/tier/accented', Value: 'é'.repeat(MAX_STANDARD_VALUE_BYTES / 2 + 1) })).rejects.toThrow(/maximum parameter value of 4096/);
    expect(await put({ Name: '/tier/standard-full', Value: 'x'.repeat(MAX_STANDARD_VALUE_BYTES) })).toMatchObject({ Tier: 'Standard' });
    expect(await put({ Name: '/tier/advanced', Value: 'x'.repeat(MAX_ADVANCED_VALUE_BYTES), Tier: 'Advanced' })).toMatchObject({ Tier: 'Advanced' });
    await expect(put({ Name: '/tier/too-big', Value: 'x'.repeat(MAX_ADVANCED_VALUE_BYTES + 1), Tier: 'Advanced' })).rejects.toThrow(/at most 8192/);
    expect(await put({ Name: '/tier/intelligent-small', Value: 'small', Tier: 'Intelligent-Tiering' })).toMatchObject({ Tier: 'Standard' });
    expect(await put({ Name: '/tier/intelligent-large', Value: 'x'.repeat(5000), Tier: 'Intelligent-Tiering' })).toMatchObject({ Tier: 'Advanced' });
    await expect(put({ Name: '/tier/advanced', Value: 'small', Tier: 'Standard', Overwrite: true })).rejects.toThrow(/can't be reverted to the standard tier/);
    expect(await put({ Name: '/tier/advanced', Value: 'small', Overwrite: true })).toMatchObject({ Tier: 'Advanced', Version: 2 });
    await expect(put({ Name: '/tier/odd', Tier: 'Premium' as never })).rejects.toThrow(/at 'tier' failed to satisfy constraint/);
  });

  test('what PutParameter refuses in a name: reserved prefixes, other characters, inner spaces, a hierarchy without a leading slash, 16 levels, 1011 characters with the ARN', async () => {
    await expect(put({ Name: '/aws/reserved' })).rejects.toMatchObject({ name: 'AccessDeniedException', message: 'No access to reserved parameter name: /aws/reserved.' });
    await expect(put({ Name: '/Ssm/reserved' })).rejects.toThrow(/can't be prefixed with "aws" or "ssm"/);
    await expect(put({ Name: 'SSM-thing' })).rejects.toThrow(/can't be prefixed with "aws" or "ssm"/);
    await expect(put({ Name: '/team/has space' })).rejects.toThrow(/can't contain spaces/);
    await expect(put({ Name: '/team/dollar$' })).rejects.toThrow(/only letters, digits/);
    await expect(put({ Name: 'team/relative' })).rejects.toThrow(/must begin with '\/'/);
    await expect(put({ Name: `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}` })).rejects.toMatchObject({ name: 'HierarchyLevelLimitExceededException' });
    expect(await put({ Name: `/${Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')}` })).toMatchObject({ Version: 1 });
    // arn:aws:ssm:us-west-2:111122223333:parameter/ is 45 characters of the 1011.
    const longest = `/${'n'.repeat(MAX_NAME_WITH_ARN_PREFIX - 45 - 1)}`;
    expect(await put({ Name: longest })).toMatchObject({ Version: 1 });
    await expect(put({ Name: `${longest}n` })).rejects.toThrow(/must be at most 1011/);
    // Spaces around a name are removed.
    await put({ Name: '  /team/trimmed ' });
    expect(ssm.names()).toContain('/team/trimmed');
  });

  test('what PutParameter refuses in a value and its options: nested {{}} references, a description over 1024, a value the AllowedPattern rejects, tags with overwrite', async () => {
    await expect(put({ Name: '/team/nested', Value: 'prefix {{ssm:/team/other}}' })).rejects.toThrow(/can't nest another parameter/);
    await expect(put({ Name: '/team/described', Description: 'd'.repeat(1025) })).rejects.toThrow(/'description' failed to satisfy constraint/);
    await expect(put({ Name: '/team/digits', Value: '12a', AllowedPattern: '^\\d+$' })).rejects.toMatchObject({ name: 'ParameterPatternMismatchException' });
    await put({ Name: '/team/digits', Value: '12', AllowedPattern: '^\\d+$' });
    // The pattern stays with the parameter.
    await expect(put({ Name: '/team/digits', Value: 'abc', Overwrite: true })).rejects.toMatchObject({ name: 'ParameterPatternMismatchException' });
    await expect(put({ Name: '/team/t', Overwrite: true, Tags: [{ Key: 'a', Value: 'b' }] })).rejects.toThrow(/tags and overwrite can't be used together/);
  });

  test('reads check names as AWS does: inner spaces and relative hierarchies are refused; reserved prefixes can be read (public parameters)', async () => {
    await expect(client.send(new GetParameterCommand({ Name: '/team/has space' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new GetParameterCommand({ Name: 'team/models/a' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new GetParameterHistoryCommand({ Name: '/team/x y' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new GetParametersByPathCommand({ Path: 'team' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new GetParametersByPathCommand({ Path: '/team/a b' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new GetParameterCommand({ Name: '/aws/service/global-infrastructure/version' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    expect((await client.send(new GetParametersByPathCommand({ Path: '/aws/service' }))).Parameters).toEqual([]);
  });

  test('GetParameter takes an ARN and a :version selector; a version that does not exist answers ParameterVersionNotFound', async () => {
    await put({ Name: '/sel/p', Value: 'one' });
    await put({ Name: '/sel/p', Value: 'two', Overwrite: true });
    expect((await client.send(new GetParameterCommand({ Name: '/sel/p:1' }))).Parameter).toMatchObject({ Name: '/sel/p', Value: 'one', Version: 1, Selector: ':1' });
    expect((await client.send(new GetParameterCommand({ Name: 'arn:aws:ssm:us-west-2:111122223333:parameter/sel/p' }))).Parameter).toMatchObject({ Name: '/sel/p', Value: 'two' });
    await expect(client.send(new GetParameterCommand({ Name: '/sel/p:3' }))).rejects.toMatchObject({ name: 'ParameterVersionNotFound' });
    await expect(client.send(new GetParameterCommand({ Name: '/sel/missing:1' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  test('only the 100 newest versions are kept: the 101st write deletes version 1; history pages 50 at most', async () => {
    const name = '/many/versions';
    await put({ Name: name, Value: 'v1' });
    for (let v = 2; v <= MAX_PARAMETER_VERSIONS + 1; v++) await put({ Name: name, Value: `v${v}`, Overwrite: true });
    expect(ssm.parameter(name)).toMatchObject({ version: 101, value: 'v101' });
    expect(ssm.history(name)).toHaveLength(MAX_PARAMETER_VERSIONS);
    await expect(client.send(new GetParameterCommand({ Name: `${name}:1` }))).rejects.toMatchObject({ name: 'ParameterVersionNotFound' });
    expect((await client.send(new GetParameterCommand({ Name: `${name}:2` }))).Parameter!.Value).toBe('v2');

    const first = await client.send(new GetParameterHistoryCommand({ Name: name }));
    expect(first.Parameters).toHaveLength(50);
    expect(first.NextToken).toBeDefined();
    const second = await client.send(new GetParameterHistoryCommand({ Name: name, NextToken: first.NextToken }));
    expect(second.NextToken).toBeUndefined();
    expect([...first.Parameters!, ...second.Parameters!].map((p) => p.Version)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    const small = await client.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 3 }));
    expect(small.Parameters!.map((p) => p.Version)).toEqual([2, 3, 4]);
    await expect(client.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 51 }))).rejects.toThrow(/less than or equal to 50/);
    await expect(client.send(new GetParameterHistoryCommand({ Name: '/team/models/a', NextToken: first.NextToken }))).rejects.toMatchObject({ name: 'InvalidNextToken' });
  });

  test('GetParametersByPath: one level unless recursive, pages of at most MaxResults (10) that may be short, every name once, in no name order', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `/paged/models/m${String(i).padStart(2, '0')}`);
    for (const [i, name] of names.entries()) await put({ Name: name, Value: String(i) });
    await put({ Name: '/paged/models/deeper/x', Value: 'deep' });
    const pages = await allPages({ Path: '/paged/models' });
    const listed = pages.flat().map((p) => p.Name!);
    expect([...listed].sort()).toEqual(names);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(10);
    // Best effort: the first page is short though more follow, so stopping at a short page loses names.
    expect(pages[0].length).toBeLessThan(10);
    expect(pages.length).toBeGreaterThan(1);
    // AWS promises no order; the stand-in's is fixed but not by name, so sorted-order assumptions fail.
    expect(listed).not.toEqual(names);
    expect(pages.flat().map((p) => p.Name)).toEqual((await allPages({ Path: '/paged/models/' })).flat().map((p) => p.Name));

    const recursive = (await allPages({ Path: '/paged/models', Recursive: true, MaxResults: 10 })).flat().map((p) => p.Name);
    expect(recursive).toContain('/paged/models/deeper/x');
    expect(recursive).toHaveLength(13);
    await expect(client.send(new GetParametersByPathCommand({ Path: '/paged', MaxResults: 11 }))).rejects.toThrow(/less than or equal to 10/);
    // Authorized on the path's ARN.
    expect(ssm.callLog.entries({ operation: 'GetParametersByPath' }).at(-1)!.resources).toEqual(['arn:aws:ssm:us-west-2:111122223333:parameter/paged']);
  });

  test('GetParametersByPath: a NextToken continues only the request that returned it; forged tokens are refused', async () => {
    const first = await client.send(new GetParametersByPathCommand({ Path: '/paged/models', MaxResults: 4 }));
    expect(first.NextToken).toBeDefined();
    await expect(client.send(new GetParametersByPathCommand({ Path: '/paged', NextToken: first.NextToken }))).rejects.toMatchObject({ name: 'InvalidNextToken' });
    await expect(client.send(new GetParametersByPathCommand({ Path: '/paged/models', Recursive: true, NextToken: first.NextToken }))).rejects.toMatchObject({ name: 'InvalidNextToken' });
    await expect(client.send(new GetParametersByPathCommand({ Path: '/paged/models', NextToken: Buffer.from('2').toString('base64') }))).rejects.toMatchObject({ name: 'InvalidNextToken' });
    // The same request with another page size goes on.
    expect((await client.send(new GetParametersByPathCommand({ Path: '/paged/models', MaxResults: 10, NextToken: first.NextToken }))).Parameters!.length).toBeGreaterThan(0);
  });

  test('GetParametersByPath filters: Type is applied; the keys AWS refuses for this call answer InvalidFilterKey', async () => {
    await put({ Name: '/filtered/list', Type: 'StringList', Value: 'a,b' });
    await put({ Name: '/filtered/plain', Value: 'p' });
    const lists = (await allPages({ Path: '/filtered', ParameterFilters: [{ Key: 'Type', Values: ['StringList'] }] })).flat();
    expect(lists.map((p) => p.Name)).toEqual(['/filtered/list']);
    await expect(client.send(new GetParametersByPathCommand({ Path: '/filtered', ParameterFilters: [{ Key: 'Name', Values: ['/filtered/list'] }] }))).rejects.toMatchObject({ name: 'InvalidFilterKey' });
  });

  test('a SecureString value comes back encrypted unless WithDecryption', async () => {
    await put({ Name: '/secret/token', Type: 'SecureString', Value: 'hunter2' });
    const encrypted = (await client.send(new GetParameterCommand({ Name: '/secret/token' }))).Parameter!.Value;
    expect(encrypted).not.toContain('hunter2');
    expect((await client.send(new GetParameterCommand({ Name: '/secret/token', WithDecryption: true }))).Parameter!.Value).toBe('hunter2');
    expect((await allPages({ Path: '/secret' })).flat()[0].Value).toBe(encrypted);
    expect((await client.send(new GetParameterHistoryCommand({ Name: '/secret/token' }))).Parameters![0].Value).toBe(encrypted);
  });
});

test('LocalSsm: a new Standard parameter over the account quota answers ParameterLimitExceeded; Advanced and overwrites still go', async () => {
  const ssm = await LocalSsm.start({ maxStandardParameters: 2 });
  const client = new SSMClient({ endpoint: ssm.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'writer', secretAccessKey: 'x' }, maxAttempts: 1 });
  try {
    await client.send(new PutParameterCommand({ Name: '/q/a', Value: 'a', Type: 'String' }));
    await client.send(new PutParameterCommand({ Name: '/q/b', Value: 'b', Type: 'String' }));
    await expect(client.send(new PutParameterCommand({ Name: '/q/c', Value: 'c', Type: 'String' }))).rejects.toMatchObject({ name: 'ParameterLimitExceeded' });
    await client.send(new PutParameterCommand({ Name: '/q/a', Value: 'a2', Type: 'String', Overwrite: true }));
    expect(await client.send(new PutParameterCommand({ Name: '/q/c', Value: 'c', Type: 'String', Tier: 'Advanced' }))).toMatchObject({ Tier: 'Advanced' });
  } finally {
    client.destroy();
    await ssm.stop();
  }
});

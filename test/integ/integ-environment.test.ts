/**
 * Where the integration test apps deploy, and the opt-in that guards the paid one.
 */
import { CUSTOMIZATION_REGIONS } from '../../lambda/shared/models/llama-models';
import { INTEG_REGION, REAL_JOB_OPT_IN_VARIABLE, SNAPSHOT_ACCOUNT, integEnvironment, isSnapshotSynthesis, requireRealJobOptIn } from './support/integ-environment';

const snapshotVariables = { CDK_INTEG_ACCOUNT: '12345678', CDK_INTEG_REGION: 'test-region', CDK_DEFAULT_ACCOUNT: '999999999999' };
const deployVariables = { CDK_DEFAULT_ACCOUNT: '210987654321', CDK_DEFAULT_REGION: 'eu-west-1' };

describe('integEnvironment', () => {
  test('a snapshot synthesis uses the fixed placeholder account, whatever credentials are around', () => {
    expect(isSnapshotSynthesis(snapshotVariables)).toBe(true);
    expect(integEnvironment(snapshotVariables)).toEqual({ account: SNAPSHOT_ACCOUNT, region: INTEG_REGION });
    expect(SNAPSHOT_ACCOUNT).toMatch(/^\d{12}$/);
  });

  test("a deployment uses the caller's account and always the customization region", () => {
    expect(isSnapshotSynthesis(deployVariables)).toBe(false);
    expect(integEnvironment(deployVariables)).toEqual({ account: '210987654321', region: INTEG_REGION });
    expect(CUSTOMIZATION_REGIONS).toContain(INTEG_REGION);
  });

  test('without any account the stacks are account-agnostic', () => {
    expect(integEnvironment({})).toEqual({ account: undefined, region: INTEG_REGION });
    expect(isSnapshotSynthesis({ CDK_INTEG_ACCOUNT: '' })).toBe(false);
  });
});

describe('requireRealJobOptIn', () => {
  const file = 'test/integ/integ.real-finetuning.ts';

  test('refuses a deployment without the opt-in, saying what it costs and how to opt in', () => {
    expect(() => requireRealJobOptIn(file, deployVariables)).toThrow(/costs money/);
    expect(() => requireRealJobOptIn(file, deployVariables)).toThrow(`${REAL_JOB_OPT_IN_VARIABLE}=1 npx integ-runner --force integ.real-finetuning.ts`);
    expect(() => requireRealJobOptIn(file, { ...deployVariables, [REAL_JOB_OPT_IN_VARIABLE]: 'yes' })).toThrow(/Nothing was deployed/);
  });

  test('allows a deployment with the opt-in, and every snapshot synthesis', () => {
    expect(() => requireRealJobOptIn(file, { ...deployVariables, [REAL_JOB_OPT_IN_VARIABLE]: '1' })).not.toThrow();
    expect(() => requireRealJobOptIn(file, snapshotVariables)).not.toThrow();
  });
});

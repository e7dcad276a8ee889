/**
 * FaultPlan, the rules every stand-in's fault injection follows: counted faults, endless ones,
 * wall-clock windows, operation scopes and the conditional-writes-only scope.
 */
import { FaultPlan } from '../support/stand-ins/fault-plan';

const SLOW = { status: 503, code: 'SlowDown' };
const CONFLICT = { status: 409, code: 'ConditionalRequestConflict' };

describe('FaultPlan', () => {
  let now: number;
  let plan: FaultPlan;

  beforeEach(() => {
    now = 0;
    plan = new FaultPlan(() => now);
  });

  it('fires a counted fault exactly N times, oldest matching entry first', () => {
    plan.add(2, SLOW, { operation: 'GetObject' });
    plan.add(1, CONFLICT);
    expect(plan.take('PutObject')).toEqual(CONFLICT);
    expect([plan.take('GetObject'), plan.take('GetObject'), plan.take('GetObject')]).toEqual([SLOW, SLOW, undefined]);
    expect(plan.pending()).toBe(0);
  });

  it('fires every matching request inside a window and none after it, however many arrive', () => {
    plan.add({ forMs: 300_000 }, SLOW, { operation: 'GetModelCustomizationJob' });
    const inside = [0, 1, 60_000, 299_999].map((t) => ((now = t), plan.take('GetModelCustomizationJob')));
    expect(inside).toEqual([SLOW, SLOW, SLOW, SLOW]);
    expect(plan.take('StopModelCustomizationJob')).toBeUndefined();
    expect(plan.pending()).toBe(Number.POSITIVE_INFINITY);
    now = 300_000;
    expect(plan.take('GetModelCustomizationJob')).toBeUndefined();
    expect(plan.pending()).toBe(0);
  });

  it('starts a window when it is added, so a later storm is measured from then', () => {
    now = 10_000;
    plan.add({ forMs: 1_000 }, SLOW);
    now = 10_999;
    expect(plan.take('Publish')).toEqual(SLOW);
    now = 11_000;
    expect(plan.take('Publish')).toBeUndefined();
  });

  it('lets a window expire behind a counted fault without consuming the counted one', () => {
    plan.add({ forMs: 10 }, SLOW);
    plan.add(1, CONFLICT);
    expect(plan.take('PutObject')).toEqual(SLOW);
    now = 10;
    expect(plan.take('PutObject')).toEqual(CONFLICT);
    expect(plan.take('PutObject')).toBeUndefined();
  });

  it('fires a conditional-only fault for conditional requests alone', () => {
    plan.add('forever', CONFLICT, { operation: 'PutObject', conditionalOnly: true });
    expect(plan.take('PutObject')).toBeUndefined();
    expect(plan.take('PutObject', { conditional: false })).toBeUndefined();
    expect(plan.take('CompleteMultipartUpload', { conditional: true })).toBeUndefined();
    expect(plan.take('PutObject', { conditional: true })).toEqual(CONFLICT);
    expect(plan.take('PutObject', { conditional: true })).toEqual(CONFLICT);
  });

  it('refuses lengths that could never fire', () => {
    expect(() => plan.add(0, SLOW)).toThrow('A fault must fire at least once; got times=0.');
    expect(() => plan.add({ forMs: 0 }, SLOW)).toThrow('A fault window must last a positive, finite number of milliseconds; got forMs=0.');
    expect(() => plan.add({ forMs: Number.POSITIVE_INFINITY }, SLOW)).toThrow(/forMs=Infinity/);
  });
});

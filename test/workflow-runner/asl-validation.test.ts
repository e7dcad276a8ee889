/**
 * The runner's ASL check runs once per distinct definition (test/support/local-workflow/asl-validation.ts):
 * a definition is still checked by asl-validator, an invalid one is refused every time, and a
 * changed definition is checked again rather than taken for a remembered one.
 */
import { validatedStateMachine } from '../support/local-workflow/asl-validation';

/** A definition no other test uses, so this file's first check cannot be a remembered one. */
function uniqueDefinition(nextState: string): object {
  const marker = `${process.pid}-${Date.now()}-${Math.random()}`;
  return { Comment: marker, StartAt: 'First', States: { First: { Type: 'Pass', Next: nextState }, Done: { Type: 'Succeed' } } };
}

test('a valid definition runs, and runs again when given again (then remembered)', async () => {
  const definition = uniqueDefinition('Done');
  const first = validatedStateMachine(definition);
  const second = validatedStateMachine(JSON.parse(JSON.stringify(definition)));
  for (const machine of [first, second]) {
    const execution = machine.run({ value: 1 });
    expect(await execution.result).toEqual({ value: 1 });
  }
});

test('an invalid definition is refused with asl-validator\'s reasons, each time it is given', () => {
  const invalid = uniqueDefinition('NoSuchState');
  for (let attempt = 0; attempt < 2; attempt++) {
    expect(() => validatedStateMachine(invalid)).toThrow(/State machine definition is invalid, see error\(s\) below:[\s\S]*NoSuchState/);
  }
});

test('a definition that differs from a valid one only by an invalid change is checked, not remembered', () => {
  const valid = uniqueDefinition('Done');
  validatedStateMachine(valid);
  const changed = { ...valid, States: { ...(valid as { States: object }).States, First: { Type: 'Pass', Next: 'Missing' } } };
  expect(() => validatedStateMachine(changed)).toThrow(/Missing/);
});

/**
 * The interpreter of a state machine definition, checked by asl-validator exactly as
 * aws-local-stepfunctions checks every StateMachine it constructs, but once per distinct
 * definition instead of once per test file: compiling asl-validator's JSON schemas took about
 * 0.8 s of CPU for every runner a test file started (30-odd in the suite), for the same few
 * definitions. A definition that passed is remembered by the SHA-256 of its JSON, the
 * validator's version and options, in the process and in a folder under the system's temporary
 * folder shared by jest's workers; any change to the definition is a new key and is checked
 * again. A definition that fails is never remembered.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';

/** The checks the runner asks for (JSONPath syntax and ARN formats too). */
const VALIDATION_OPTIONS = { checkPaths: true, checkArn: true } as const;

type AslValidator = (definition: unknown, options: typeof VALIDATION_OPTIONS) => { isValid: boolean; errorsText: (separator?: string) => string };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VALIDATOR_VERSION = (require('asl-validator/package.json') as { version: string }).version;
const CACHE_DIR = path.join(os.tmpdir(), `llama-finetune-asl-valid-${os.userInfo().uid}`);
const validInThisProcess = new Set<string>();

/** A StateMachine of `definition`, after asl-validator found it valid (now or for identical JSON earlier). */
export function validatedStateMachine(definition: object): StateMachine {
  const key = createHash('sha256').update(JSON.stringify({ validator: VALIDATOR_VERSION, options: VALIDATION_OPTIONS, definition })).digest('hex');
  const marker = path.join(CACHE_DIR, key);
  if (!validInThisProcess.has(key) && !fs.existsSync(marker)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const validate = require('asl-validator') as AslValidator;
    const { isValid, errorsText } = validate(definition, VALIDATION_OPTIONS);
    // The message aws-local-stepfunctions gives for an invalid definition.
    if (!isValid) throw new Error(`State machine definition is invalid, see error(s) below:\n ${errorsText('\n')}`);
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const temporary = `${marker}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, '');
    fs.renameSync(temporary, marker);
  }
  validInThisProcess.add(key);
  // Validated above (nested Map and Parallel definitions are part of the one document asl-validator checks).
  return new StateMachine(definition as never, { validationOptions: { noValidate: true } });
}

import * as fs from 'fs';
import * as path from 'path';

/** The `context` block of the repository's cdk.json, so tests synthesize what `cdk synth` does. */
export function readCdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf-8'));
  return cdkJson.context;
}

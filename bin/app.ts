#!/usr/bin/env node
/**
 * The CDK app: one LlamaFinetuningStack per environment named in cdk.json
 * (`context["llama-finetune:environments"]`). `npx cdk synth` synthesizes all of them without
 * AWS credentials; `npx cdk deploy LlamaFinetuning-dev` deploys one.
 */
import { App } from 'aws-cdk-lib';
import { InvalidPropsError } from '../lib/core/props-validation';
import { ENVIRONMENTS_CONTEXT_KEY, InvalidEnvironmentSettingsError, parseEnvironments } from '../app/environment-settings';
import { LlamaFinetuningStack } from '../app/llama-finetuning-stack';

/**
 * Adds one stack per environment of cdk.json.
 * @throws InvalidEnvironmentSettingsError with every problem of every environment: first the
 *   settings themselves, then (when they are well-formed) what the constructs reject.
 */
export function buildApp(app: App = new App()): App {
  const environments = parseEnvironments(app.node.tryGetContext(ENVIRONMENTS_CONTEXT_KEY));
  const problems: string[] = [];
  for (const [name, settings] of Object.entries(environments)) {
    try {
      new LlamaFinetuningStack(app, `LlamaFinetuning-${name}`, {
        environmentName: name,
        settings,
        env: { account: settings.account, region: settings.region },
        description: `Llama 3.2 fine-tuning on Amazon Bedrock (${name})`,
      });
    } catch (err) {
      if (!(err instanceof InvalidPropsError)) throw err;
      problems.push(`environment ${name}: ${err.message}`);
    }
  }
  if (problems.length > 0) throw new InvalidEnvironmentSettingsError(problems);
  return app;
}

if (require.main === module) {
  buildApp().synth();
}

#!/usr/bin/env node
/**
 * The CDK app: one LlamaFinetuningStack per environment named in cdk.json
 * (`context["llama-finetune:environments"]`). `npx cdk synth` synthesizes all of them without
 * AWS credentials; `npx cdk deploy LlamaFinetuning-dev` deploys one.
 */
import { App } from 'aws-cdk-lib';
import { ENVIRONMENTS_CONTEXT_KEY, parseEnvironmentSettings } from '../lib/environment-settings';
import { LlamaFinetuningStack } from '../lib/llama-finetuning-stack';

export function buildApp(app: App = new App()): App {
  const environments = app.node.tryGetContext(ENVIRONMENTS_CONTEXT_KEY) as Record<string, unknown> | undefined;
  if (!environments || Object.keys(environments).length === 0) {
    throw new Error(`cdk.json has no environments under context["${ENVIRONMENTS_CONTEXT_KEY}"]; add at least one, e.g. "dev": {"account": "111111111111", "region": "us-west-2"}`);
  }
  for (const [name, raw] of Object.entries(environments)) {
    const settings = parseEnvironmentSettings(name, raw);
    new LlamaFinetuningStack(app, `LlamaFinetuning-${name}`, {
      environmentName: name,
      settings,
      env: { account: settings.account, region: settings.region },
      description: `Llama 3.2 fine-tuning on Amazon Bedrock (${name})`,
    });
  }
  return app;
}

if (require.main === module) {
  buildApp().synth();
}

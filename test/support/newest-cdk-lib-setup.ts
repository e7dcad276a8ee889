/**
 * Set up before each test file of the "aws-cdk-lib newest" project (jest.config.js). That
 * aws-cdk-lib validates every template it synthesizes with a WebAssembly engine of its own
 * (`CloudFormationValidationPlugin`, on by default), which it builds afresh for each test file,
 * as jest gives each file its own modules: about 7 s of CPU per file, a fifth of the suite's
 * time. It is switched off here as `CDK_VALIDATION=false` does for `cdk synth`, and
 * test/constructs/cdk-template-validation.test.ts runs it, once, on every environment's stack.
 */
process.env.CDK_VALIDATION = 'false';

/**
 * Set up before each test file of both projects (jest.config.js), two settings.
 *
 * The CDK apps a test makes record no creation stack traces. aws-cdk-lib otherwise captures a JavaScript stack trace for
 * every CloudFormation element it creates (the cloud assembly's `aws:cdk:creationStack`
 * metadata, a debugging aid for `cdk synth` errors), and jest's source-map support maps each
 * one frame by frame: about a tenth of the CPU of a test file that synthesizes stacks, for
 * metadata that no test reads and that no template carries. The setting reaches every app as
 * context in CDK_CONTEXT_JSON, the way the CDK CLI hands context to an app, added to any context
 * the shell running the tests already set there; a test that passes its own CDK_CONTEXT_JSON
 * (to a child process) keeps it.
 */
process.env.CDK_CONTEXT_JSON = JSON.stringify({ ...JSON.parse(process.env.CDK_CONTEXT_JSON || '{}'), 'aws:cdk:disable-creation-stack-traces': true });

/**
 * esbuild's synchronous API (the bundle cache's `buildSync`) otherwise runs in a worker thread
 * that each copy of the esbuild module starts and keeps, with an esbuild process of its own,
 * until the process exits; jest loads a copy per test file (and per `jest.isolateModules`), so
 * a jest worker ended a full run holding 12-13 of them. Without worker threads esbuild runs each
 * synchronous call as a child process that ends with the call.
 */
process.env.ESBUILD_WORKER_THREADS = '0';

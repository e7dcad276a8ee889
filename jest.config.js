/**
 * Two projects: every test against the aws-cdk-lib in devDependencies (2.257.0, the lowest
 * version the peer dependency allows, and the newest integ-runner can read), and the construct
 * tests again against the newest aws-cdk-lib (the `aws-cdk-lib-newest` alias), which is what
 * most users install. Both run in `npm test`.
 */
const base = {
  testEnvironment: 'node',
  // esbuild strips the types (tsc type-checks everything before jest starts): scripts/jest-esbuild-transform.js.
  transform: { '^.+\\.tsx?$': '<rootDir>/scripts/jest-esbuild-transform.js' },
  // No creation stack traces in the apps the tests make; esbuild without worker threads (the file says why).
  setupFiles: ['<rootDir>/test/support/cdk-test-setup.ts'],
  // The cloud assemblies the file's apps wrote to the temporary folder are deleted after it.
  setupFilesAfterEnv: ['<rootDir>/test/support/cdk-outdir-cleanup.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  // Synthesizing stacks bundles every Lambda with esbuild; give those suites room.
  testTimeout: 120000,
  // One worker per core. Jest's default (cores - 1) ran ONE worker on a 2-core CI machine while
  // many suites wait on child processes, sockets and worker threads; two finished in 303-393 s
  // where one took 387-634 s on a shared 2-core machine (README, Commands).
  maxWorkers: '100%',
  // A worker whose heap passed 600 MB after a test file is replaced by a fresh one. Each file
  // loads aws-cdk-lib afresh (jest isolates modules per file), so a worker's heap grew to
  // 700-870 MB by the end of a run and its garbage collection with it: full runs on the 2-core
  // machine took 478-485 s of user CPU with the limit (1 GB and 600 MB) against 536 s without,
  // jest 317-321 s against 353 s (README, Commands). One run at 600 MB ended without jest's
  // "worker process has failed to exit gracefully" line, which every run before printed.
  workerIdleMemoryLimit: '600MB',
  projects: [
    {
      ...base,
      displayName: 'aws-cdk-lib floor',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      // aws-cdk-lib 2.257 has no built-in template validation to test.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/constructs/cdk-template-validation.test.ts'],
      globals: { AWS_CDK_LIB_UNDER_TEST: 'floor' },
    },
    {
      ...base,
      displayName: 'aws-cdk-lib newest',
      globals: { AWS_CDK_LIB_UNDER_TEST: 'newest' },
      roots: ['<rootDir>/test'],
      testMatch: ['<rootDir>/test/constructs/**/*.test.ts', '<rootDir>/test/operations/finetuning-operations.test.ts', '<rootDir>/test/cdk-version/**/*.test.ts'],
      // Every require of aws-cdk-lib, in the library, the tests and cdk-nag alike.
      moduleNameMapper: { '^aws-cdk-lib$': 'aws-cdk-lib-newest', '^aws-cdk-lib/(.*)$': 'aws-cdk-lib-newest/$1' },
      // Its built-in template validation off but in the one test that runs it (the file says why).
      setupFiles: [...base.setupFiles, '<rootDir>/test/support/newest-cdk-lib-setup.ts'],
    },
  ],
};

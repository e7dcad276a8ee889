#!/usr/bin/env node
/**
 * `cdk synth`'s entry (cdk.json "app"): starts bundling the workflow handlers (one esbuild call,
 * in esbuild's own process) before loading the library, then loads the library and builds the
 * app of bin/app.ts while esbuild works (the functions' code waits as deferred assets), and
 * stages the bundles and synthesizes once they are ready.
 */
import * as path from 'path';
import { prebundleHandlers } from '../lib/workflow/handler-bundles';

/** Errors that mean "cdk.json is wrong" (InvalidEnvironmentSettingsError, InvalidPropsError). */
const CONFIGURATION_ERRORS = new Set(['InvalidEnvironmentSettings', 'InvalidPropsError']);

/** Runs `step`; a wrong cdk.json is the user's to fix: every problem, worded for them, no stack trace, exit 1. */
function reportingConfigurationErrors<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    // (Told by name: importing the classes here would load the library before bundling starts.)
    if (!CONFIGURATION_ERRORS.has((err as Error).name)) throw err;
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}

const bundled = prebundleHandlers(path.resolve(__dirname, '..', 'lambda'));
// Loaded after bundling started, on purpose: loading the library and building the tree is the work that overlaps.
/* eslint-disable @typescript-eslint/no-require-imports */
const { buildApp } = require('./app') as typeof import('./app');
const { stageDeferredBundles } = require('../lib/workflow/deferred-bundle-code') as typeof import('../lib/workflow/deferred-bundle-code');
/* eslint-enable @typescript-eslint/no-require-imports */
const app = reportingConfigurationErrors(() => buildApp());
bundled.then(
  () =>
    reportingConfigurationErrors(() => {
      stageDeferredBundles();
      app.synth();
    }),
  (err: Error) => {
    process.stderr.write(`Bundling the workflow handlers failed: ${err.message}\n`);
    process.exit(1);
  },
);

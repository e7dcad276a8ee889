#!/usr/bin/env node
/**
 * `cdk synth`'s entry (cdk.json "app"): starts bundling the workflow handlers (one esbuild call,
 * in esbuild's own process) before loading the library, so bundling and loading overlap, then
 * synthesizes the app of bin/app.ts, whose functions find the bundles ready.
 */
import * as path from 'path';
import { prebundleHandlers } from '../lib/workflow/handler-bundles';

/** Errors that mean "cdk.json is wrong" (InvalidEnvironmentSettingsError, InvalidPropsError). */
const CONFIGURATION_ERRORS = new Set(['InvalidEnvironmentSettings', 'InvalidPropsError']);

const bundled = prebundleHandlers(path.resolve(__dirname, '..', 'lambda'));
// Loaded after bundling started, on purpose: compiling and loading the library is the work that overlaps.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildApp } = require('./app') as typeof import('./app');
bundled.then(
  () => {
    try {
      buildApp().synth();
    } catch (err) {
      // A wrong cdk.json is the user's to fix: every problem, worded for them, and no stack trace.
      // (Told by name: importing the classes here would load the library before bundling starts.)
      if (!CONFIGURATION_ERRORS.has((err as Error).name)) throw err;
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    }
  },
  (err: Error) => {
    process.stderr.write(`Bundling the workflow handlers failed: ${err.message}\n`);
    process.exit(1);
  },
);

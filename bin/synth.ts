#!/usr/bin/env node
/**
 * `cdk synth`'s entry (cdk.json "app"): starts bundling the workflow handlers (one esbuild call,
 * in esbuild's own process) before loading the library, so bundling and loading overlap, then
 * synthesizes the app of bin/app.ts, whose functions find the bundles ready.
 */
import * as path from 'path';
import { prebundleHandlers } from '../lib/workflow/handler-bundles';

const bundled = prebundleHandlers(path.resolve(__dirname, '..', 'lambda'));
// Loaded after bundling started, on purpose: compiling and loading the library is the work that overlaps.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildApp } = require('./app') as typeof import('./app');
bundled.then(
  () => buildApp().synth(),
  (err: Error) => {
    process.stderr.write(`Bundling the workflow handlers failed: ${err.message}\n`);
    process.exit(1);
  },
);

/**
 * How the repository's TypeScript runs in Node.js outside the handler bundles: each file alone,
 * its types stripped by esbuild with tsconfig.json's options (tsconfig's isolatedModules already
 * requires that every file compiles alone). The one definition for the CDK app and scripts
 * (esbuild-register.js) and for jest (jest-esbuild-transform.js).
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const tsconfigRaw = fs.readFileSync(path.join(__dirname, '..', 'tsconfig.json'), 'utf8');
const target = `node${process.versions.node.split('.')[0]}`;

/**
 * esbuild transform options for `filename`, with its source map `inline` or `external`.
 * `import()` becomes `require()`, as tsc compiles it under tsconfig's `"module": "commonjs"`:
 * left alone, Node.js would hand a lazily imported .ts file (the CLI's commands) to its ES module
 * loader, which cannot load TypeScript.
 */
function transformOptions(filename, sourcemap) {
  return { loader: filename.endsWith('.tsx') ? 'tsx' : 'ts', format: 'cjs', target, supported: { 'dynamic-import': false }, sourcemap, sourcesContent: false, sourcefile: filename, tsconfigRaw };
}

/**
 * A digest of everything a transform's output depends on besides the file itself: tsconfig.json,
 * the Node.js target, esbuild's version, this file and the `callerFile` using it. Cache keys start with it.
 */
function transformRecipe(esbuildVersion, callerFile) {
  return crypto.createHash('sha256').update(tsconfigRaw).update(target).update(esbuildVersion).update(fs.readFileSync(__filename)).update(fs.readFileSync(callerFile)).digest('hex');
}

module.exports = { transformOptions, transformRecipe };

/**
 * Jest's TypeScript transform: esbuild strips the types of each file alone (as tsconfig's
 * isolatedModules already requires) instead of ts-jest building a TypeScript language service
 * per worker and type-checking every test file again. `npm test` type-checks the whole project
 * once with `tsc -p tsconfig.dev.json` before jest starts, so no check is lost.
 * Same options as scripts/esbuild-register.js (cdk.json's app), plus what jest needs: CommonJS
 * and inline source maps for stack traces and coverage.
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const tsconfigRaw = fs.readFileSync(path.join(__dirname, '..', 'tsconfig.json'), 'utf8');
const target = `node${process.versions.node.split('.')[0]}`;
const configHash = crypto.createHash('sha256').update(tsconfigRaw).update(target).update(esbuild.version).update(fs.readFileSync(__filename)).digest('hex');

module.exports = {
  process(sourceText, sourcePath) {
    const { code, map } = esbuild.transformSync(sourceText, {
      loader: sourcePath.endsWith('x') ? 'tsx' : 'ts',
      format: 'cjs',
      target,
      sourcemap: 'external',
      sourcesContent: true,
      sourcefile: sourcePath,
      tsconfigRaw,
    });
    return { code, map };
  },
  getCacheKey(sourceText, sourcePath) {
    return crypto.createHash('sha256').update(configHash).update(sourcePath).update(sourceText).digest('hex');
  },
};

/**
 * Runs the repository's TypeScript in Node.js the way `ts-node --transpile-only` does (types
 * stripped, each file alone, as tsconfig's isolatedModules already requires), but with esbuild
 * (a development dependency the synthesis loads anyway to bundle the handlers) instead of the
 * TypeScript compiler: loading the library this way takes a fraction of the CPU time. Used by
 * cdk.json's app: `node -r ./scripts/esbuild-register.js bin/synth.ts`.
 *
 * tsconfig.json's options that change emitted code (class field semantics through its target,
 * decorators) apply, and stack traces name the TypeScript lines (inline source maps).
 *
 * Each file's JavaScript is kept in a folder under the system's temporary folder, named by the
 * SHA-256 of everything the output depends on (the file's path and content, tsconfig.json,
 * esbuild's version, the Node.js major version, this file), so an edited file is transformed
 * again and an unchanged one is not (the transforms were 5-8% of a synthesis's CPU).
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { transformOptions, transformRecipe } = require('./typescript-transform');

// esbuild's version from its package.json: esbuild itself is loaded only when a file is not cached.
const esbuildVersion = JSON.parse(fs.readFileSync(require.resolve('esbuild/package.json'), 'utf8')).version;
const recipe = transformRecipe(esbuildVersion, __filename);
const cacheDir = path.join(os.tmpdir(), `llama-finetune-ts-${os.userInfo().uid}`);
let esbuild;

process.setSourceMapsEnabled(true);

function transform(source, filename) {
  esbuild ??= require('esbuild');
  return esbuild.transformSync(source, transformOptions(filename, 'inline')).code;
}

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const cached = path.join(cacheDir, `${crypto.createHash('sha256').update(recipe).update(filename).update('\0').update(source).digest('hex')}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    code = transform(source, filename);
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const temporary = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, code);
      fs.renameSync(temporary, cached);
    } catch {
      // A read-only or full temporary folder only costs the next run the transform.
    }
  }
  module._compile(code, filename);
};

/**
 * SLOW (about a minute): the installable package end to end. Builds and packs this library
 * (`npm pack`, whose prepack compiles and bundles the handlers), installs the tarball into a
 * throw-away CDK app in a temporary folder, type-checks that app against the package's
 * declarations, synthesizes it with asset bundling on, and runs the CLI from it.
 *
 * Offline: the consumer's package-lock.json is cut from this repository's, so npm installs
 * aws-cdk-lib, constructs and the package's dependencies at the versions this repository
 * installed, from the npm cache alone (`--offline`). The consumer has no esbuild, its PATH no
 * node_modules/.bin, and CDK_DOCKER names no program, so any bundling at synth time would fail.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { usage } from '../../cli/llama-finetune';
import { HANDLER_METADATA_KEY } from '../../lib/workflow/workflow-function';
import { handlerModuleFile, handlerRuntime, lambdaHandlerOf } from '../../lib/workflow/handler-code';
import { CfnResolver } from '../support/local-workflow/cfn-resolver';
import { CfnTemplateJson, resourcesOfType } from '../support/local-workflow/cfn-template';
import { physicalResourcesOf } from '../support/local-workflow/physical-resources';
import { CONSUMER_APPLICATION_STACK, CONSUMER_BUCKET_PATH, CONSUMER_EXPORT_PREFIX, CONSUMER_STACK, CONSUMER_TSCONFIG, consumerAppSource } from './consumer-app-files';
import { consumerLockfile, Lockfile } from './consumer-lockfile';
import { CommandResult, runCommand } from './run-command';

const REPOSITORY = path.resolve(__dirname, '..', '..');
const MANIFEST = JSON.parse(fs.readFileSync(path.join(REPOSITORY, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const CLI_NAME = Object.keys(MANIFEST.bin)[0];
/** The handlers the build bundles: every lambda/<name>/index.ts. */
const HANDLER_NAMES = fs.readdirSync(path.join(REPOSITORY, 'lambda')).filter((name) => fs.existsSync(path.join(REPOSITORY, 'lambda', name, 'index.ts')));

/** Everything the steps left, for the tests to read. */
interface PackageRun {
  readonly tarballEntries: string[];
  readonly consumerDir: string;
  readonly installedPackageDir: string;
  readonly esbuildLookup: CommandResult;
  readonly cloudAssemblyDir: string;
  readonly template: CfnTemplateJson;
  /** The consumer's second stack, whose role reads the model registry. */
  readonly applicationTemplate: CfnTemplateJson;
  readonly cliHelp: CommandResult;
  /** The CLI's S3 client (a bundled dependency) loaded from the installed package. */
  readonly s3ClientLoad: CommandResult;
  /** `--version` of the installed CLI, watched the same way (it loads no command, hence no SDK). */
  readonly versionLoad: CommandResult;
  readonly timings: Record<string, number>;
}

/** Environment of the consumer's commands: offline npm, no node_modules/.bin on PATH, no Docker. */
function consumerEnvironment(tempRoot: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // What npm sets for this repository's own scripts describes this repository, not the consumer.
    if (/^npm_(package|lifecycle)_/.test(key) || key === 'INIT_CWD' || key === 'NODE_PATH') continue;
    env[key] = value;
  }
  const pathDirs = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '' && !dir.split(path.sep).includes('node_modules'));
  env.PATH = [path.dirname(process.execPath), ...pathDirs].join(path.delimiter);
  env.CDK_DOCKER = path.join(tempRoot, 'docker-is-not-installed');
  env.npm_config_offline = 'true';
  env.npm_config_audit = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_update_notifier = 'false';
  return env;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Every construct's fully qualified class name in cdk.out/tree.json. */
function constructClasses(treeNode: { constructInfo?: { fqn?: string }; children?: Record<string, unknown> }, into: Set<string> = new Set()): Set<string> {
  if (treeNode.constructInfo?.fqn) into.add(treeNode.constructInfo.fqn);
  for (const child of Object.values(treeNode.children ?? {})) constructClasses(child as typeof treeNode, into);
  return into;
}

/** What the build never reads: version control, installed and built output, synthesized apps. */
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', 'dist-jsii', 'cdk.out', '.jsii', 'tsconfig.tsbuildinfo', '.prof', 'demo-output']);

/** The repository's working tree (edits included) in `target`, with its node_modules linked, not copied. */
function copyOfRepository(target: string): string {
  fs.cpSync(REPOSITORY, target, { recursive: true, filter: (source) => path.dirname(source) !== REPOSITORY || !NOT_COPIED.has(path.basename(source)) });
  fs.symlinkSync(path.join(REPOSITORY, 'node_modules'), path.join(target, 'node_modules'), 'dir');
  return target;
}

async function packInstallSynthesize(tempRoot: string): Promise<PackageRun> {
  const timings: Record<string, number> = {};
  const packDir = path.join(tempRoot, 'pack');
  const consumerDir = path.join(tempRoot, 'consumer');
  fs.mkdirSync(packDir);
  fs.mkdirSync(consumerDir);

  // npm pack runs prepack: clean, type-check the CLI, the jsii compile, bundle the handlers and the
  // CLI. The registry the consumer's lockfile names is looked up meanwhile. It packs a copy of the
  // repository: in the repository itself, prepack would delete dist/ and rewrite .jsii while other
  // test files read them (jsii does not write .jsii atomically), and would leave the user's
  // working tree changed by `npm test`.
  const sourceCopy = copyOfRepository(path.join(tempRoot, 'repository'));
  const [pack, registryLookup] = await Promise.all([
    runCommand('npm', ['pack', '--pack-destination', packDir], { cwd: sourceCopy }),
    runCommand('npm', ['config', 'get', 'registry'], { cwd: REPOSITORY }),
  ]);
  timings['npm pack (with build)'] = pack.durationMs;
  const tarballs = fs.readdirSync(packDir).filter((file) => file.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in ${packDir}: ${tarballs.join(', ')}`);
  const tarball = path.join(packDir, tarballs[0]);
  const tarballEntries = (await runCommand('tar', ['-tzf', tarball], { cwd: packDir })).stdout.split('\n').filter(Boolean);

  const registry = registryLookup.stdout.trim();
  const repositoryLock = JSON.parse(fs.readFileSync(path.join(REPOSITORY, 'package-lock.json'), 'utf8')) as Lockfile;
  const packageNeeds = [...Object.keys(MANIFEST.dependencies ?? {}), ...Object.keys(MANIFEST.peerDependencies ?? {})];
  const consumerName = 'consumer-app';
  fs.writeFileSync(path.join(consumerDir, 'package.json'), JSON.stringify({ name: consumerName, version: '1.0.0', private: true }, null, 2));
  fs.writeFileSync(
    path.join(consumerDir, 'package-lock.json'),
    JSON.stringify(consumerLockfile(repositoryLock, { name: consumerName, dependencies: {}, preinstalled: packageNeeds, registry }), null, 2),
  );
  fs.writeFileSync(path.join(consumerDir, 'app.ts'), consumerAppSource(MANIFEST.name));
  fs.writeFileSync(path.join(consumerDir, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG, null, 2));

  const env = consumerEnvironment(tempRoot);
  // aws-cdk-lib and constructs come in as the package's peer dependencies, which npm installs.
  timings['npm install --offline <tarball>'] = (await runCommand('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: consumerDir, env })).durationMs;

  // The type-check and synthesis (one after the other) and the four CLI and esbuild probes only
  // read the installed app and write nothing the others read, so they run side by side: the
  // probes take the type-check's wall time instead of adding theirs (the same work, less waiting).
  const tsc = require.resolve('typescript/bin/tsc');
  const cloudAssemblyDir = path.join(consumerDir, 'cdk.out');
  const synthEnv = {
    ...env,
    CDK_OUTDIR: cloudAssemblyDir,
    // What `cdk synth` passes; bundling is left at its default (every stack).
    CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true }),
  };
  const typeCheckAndSynthesize = async () => {
    timings['tsc (consumer app)'] = (await runCommand(process.execPath, [tsc, '-p', consumerDir], { cwd: consumerDir, env })).durationMs;
    timings['cdk synth (node app.js)'] = (await runCommand(process.execPath, ['app.js'], { cwd: consumerDir, env: synthEnv })).durationMs;
  };

  const installedPackageDir = path.join(consumerDir, 'node_modules', MANIFEST.name);
  // Every module the installed CLI requires, other than Node's own: none may come from node_modules.
  const cliEntry = path.join(installedPackageDir, MANIFEST.bin[CLI_NAME]);
  const probe = (...cliArgs: string[]) => `const Module = require('module'); const seen = []; const load = Module._load; Module._load = function (request, ...rest) { if (!request.startsWith('node:') && !Module.isBuiltin(request) && !request.startsWith('.') && !require('path').isAbsolute(request)) seen.push(request); return load.call(this, request, ...rest); }; process.argv = [process.argv[0], ${JSON.stringify(cliEntry)}, ...${JSON.stringify(cliArgs)}]; process.on('exit', () => { process.stdout.write('\\n' + (seen.length === 0 ? 'self-contained' : 'requires ' + seen.join(', '))); }); Module.runMain();`;

  // The CLI loads a command (and with it the S3 client) only to run it: `runs` sends a request,
  // here to a closed port, so the client is loaded, configured and used before it exits 3.
  const unreachableS3 = {
    ...env,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'consumer',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_CONFIG_FILE: path.join(tempRoot, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(tempRoot, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    AWS_MAX_ATTEMPTS: '1',
    LLAMA_FINETUNE_ARTIFACTS_BUCKET: 'consumer-artifacts',
  };

  const [, esbuildLookup, cliHelp, versionLoad, s3ClientLoad] = await Promise.all([
    typeCheckAndSynthesize(),
    runCommand(process.execPath, ['-e', "require.resolve('esbuild')"], { cwd: consumerDir, env, allowFailure: true }),
    runCommand('npx', ['--offline', CLI_NAME, '--help'], { cwd: consumerDir, env, allowFailure: true }),
    runCommand(process.execPath, ['-e', probe('--version')], { cwd: consumerDir, env, allowFailure: true }),
    runCommand(process.execPath, ['-e', probe('runs')], { cwd: consumerDir, env: unreachableS3, allowFailure: true }),
  ]);
  timings[`npx ${CLI_NAME} --help (beside tsc)`] = cliHelp.durationMs;
  const template = JSON.parse(fs.readFileSync(path.join(cloudAssemblyDir, `${CONSUMER_STACK}.template.json`), 'utf8')) as CfnTemplateJson;

  const applicationTemplate = JSON.parse(fs.readFileSync(path.join(cloudAssemblyDir, `${CONSUMER_APPLICATION_STACK}.template.json`), 'utf8')) as CfnTemplateJson;
  return { tarballEntries, consumerDir, installedPackageDir, esbuildLookup, cloudAssemblyDir, template, applicationTemplate, cliHelp, s3ClientLoad, versionLoad, timings };
}

describe('installable package [slow: build, npm pack, offline install into a consumer app, synth; about a minute]', () => {
  let tempRoot: string;
  let run: PackageRun;

  beforeAll(async () => {
    tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'llama-finetune-package-'));
    run = await packInstallSynthesize(tempRoot);
    process.stderr.write(`package test steps: ${Object.entries(run.timings).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)} s`).join(', ')}\n`);
  }, 600_000);

  afterAll(() => {
    // LLAMA_FINETUNE_KEEP_CONSUMER=1 keeps the consumer app for a look after a failure.
    if (tempRoot && !process.env.LLAMA_FINETUNE_KEEP_CONSUMER) fs.rmSync(tempRoot, { recursive: true, force: true });
  });

  it('packs compiled JavaScript with declarations, the CLI, every prebundled handler, README and LICENSE, and no sources, tests or cdk.out', () => {
    const entries = run.tarballEntries.map((entry) => entry.replace(/^package\//, ''));
    for (const required of ['package.json', 'README.md', 'LICENSE', 'dist/lib/index.js', 'dist/lib/index.d.ts', MANIFEST.bin[CLI_NAME]]) expect(entries).toContain(required);
    for (const handler of HANDLER_NAMES) {
      expect(entries).toContain(`dist/assets/${handlerModuleFile(handler)}`);
      expect(entries).toContain(`dist/assets/${handlerModuleFile(handler)}.map`);
    }
    // The chunks the handlers share ship once, in the same folder.
    expect(entries.filter((entry) => /^dist\/assets\/chunks\/.+\.mjs$/.test(entry)).length).toBeGreaterThan(0);
    // The package has no runtime dependency (jsii allows only jsii modules): the CLI is one esbuild bundle with its S3 client inside.
    expect(entries.filter((entry) => entry.startsWith('node_modules/'))).toEqual([]);
    expect(entries).toContain('.jsii');
    expect(entries.filter((entry) => entry.startsWith('dist/cli/'))).toEqual([MANIFEST.bin[CLI_NAME]]);
    const unwanted = entries.filter((entry) => (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) || /^(test|lib|lambda|cli|bin|scripts|bench|demo|cdk\.out|node_modules)\//.test(entry) || entry.includes('cdk.out/'));
    expect(unwanted).toEqual([]);
    // The installed CLI runs with nothing of the SDK in the consumer's node_modules being required: it needs no install of its own.
    expect({ lastLine: run.versionLoad.stdout.trim().split('\n').pop(), stderr: run.versionLoad.stderr }).toEqual({ lastLine: 'self-contained', stderr: '' });
    expect(run.versionLoad.stdout).toContain(`llama-finetune ${MANIFEST.version}`);
    // The same with the S3 client at work: the request went out (refused), nothing was required from node_modules.
    expect({ lastLine: run.s3ClientLoad.stdout.trim().split('\n').pop(), exitCode: run.s3ClientLoad.exitCode }).toEqual({ lastLine: 'self-contained', exitCode: 3 });
    expect(run.s3ClientLoad.stderr).toContain('AWS could not be reached (ECONNREFUSED)');
  });

  it('installs with aws-cdk-lib and constructs as peer dependencies and without esbuild', () => {
    const installed = JSON.parse(fs.readFileSync(path.join(run.installedPackageDir, 'package.json'), 'utf8')) as typeof MANIFEST;
    expect(Object.keys(installed.peerDependencies ?? {})).toEqual(expect.arrayContaining(['aws-cdk-lib', 'constructs']));
    for (const buildOnly of ['aws-cdk-lib', 'constructs', 'esbuild', 'typescript', 'ts-node']) expect(installed.dependencies ?? {}).not.toHaveProperty(buildOnly);
    // Peers were installed by npm from the package's own declaration.
    for (const peer of ['aws-cdk-lib', 'constructs']) expect(fs.existsSync(path.join(run.consumerDir, 'node_modules', peer, 'package.json'))).toBe(true);
    // The consumer really cannot load esbuild, so synthesis below could not have bundled with it.
    expect(run.esbuildLookup.exitCode).not.toBe(0);
    expect(run.esbuildLookup.stderr).toContain("Cannot find module 'esbuild'");
  });

  it('synthesizes from the shipped assets: no NodejsFunction, nothing bundled, every workflow function runs its shipped module from the one shipped folder', () => {
    const tree = JSON.parse(fs.readFileSync(path.join(run.cloudAssemblyDir, 'tree.json'), 'utf8')) as { tree: Parameters<typeof constructClasses>[0] };
    const classes = [...constructClasses(tree.tree)];
    expect(classes).toContain('aws-cdk-lib.aws_lambda.Function');
    expect(classes.filter((fqn) => fqn.includes('aws_lambda_nodejs'))).toEqual([]);

    const workflowFunctions = resourcesOfType(run.template, 'AWS::Lambda::Function').filter(([, resource]) => typeof resource.Metadata?.[HANDLER_METADATA_KEY] === 'string');
    expect(workflowFunctions.length).toBeGreaterThan(0);
    const shippedFolder = path.join(run.installedPackageDir, 'dist', 'assets');
    const stagedFolders = new Set<string>();
    const modules: string[] = [];
    for (const [logicalId, resource] of workflowFunctions) {
      const handler = resource.Metadata![HANDLER_METADATA_KEY] as string;
      const stagedFolder = path.join(run.cloudAssemblyDir, resource.Metadata!['aws:asset:path'] as string);
      stagedFolders.add(stagedFolder);
      modules.push(path.join(stagedFolder, handlerModuleFile(handler)));
      expect({ logicalId, bundled: resource.Metadata!['aws:asset:is-bundled'] }).toEqual({ logicalId, bundled: false });
      expect({ logicalId, code: sha256(path.join(stagedFolder, handlerModuleFile(handler))) }).toEqual({ logicalId, code: sha256(path.join(shippedFolder, handlerModuleFile(handler))) });
      expect({ logicalId, handler: resource.Properties?.Handler, runtime: resource.Properties?.Runtime }).toEqual({ logicalId, handler: lambdaHandlerOf(handler), runtime: handlerRuntime().name });
    }
    // One asset for all of them: the shipped folder, staged once.
    expect(stagedFolders.size).toBe(1);
    const [stagedFolder] = stagedFolders;
    const filesOf = (folder: string) => (fs.readdirSync(folder, { recursive: true }) as string[]).filter((file) => fs.statSync(path.join(folder, file)).isFile()).sort();
    expect(filesOf(stagedFolder)).toEqual(filesOf(shippedFolder));
    // Each staged module loads in a plain Node.js process, as the Lambda runtime imports it, and exports its handler.
    const load = spawnSync(process.execPath, ['--input-type=module', '-e', `for (const file of ${JSON.stringify(modules.map((file) => pathToFileURL(file).href))}) { const loaded = await import(file); console.log(typeof loaded.handler); }`], { encoding: 'utf8' });
    expect({ stderr: load.stderr, status: load.status }).toEqual({ stderr: '', status: 0 });
    expect(load.stdout.trim().split('\n')).toEqual(modules.map(() => 'function'));
  });

  it('gives every Lambda function a code asset holding the module its Handler names', () => {
    const functions = resourcesOfType(run.template, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    const withoutModule = functions
      .filter(([, resource]) => !(resource.Properties?.Code as { ZipFile?: unknown } | undefined)?.ZipFile)
      .filter(([, resource]) => {
        const assetPath = resource.Metadata?.['aws:asset:path'];
        const handler = String(resource.Properties?.Handler ?? '');
        // The Node.js runtime loads <file>.js, .mjs or .cjs for a Handler of <file>.<export>.
        const file = handler.slice(0, handler.lastIndexOf('.'));
        return typeof assetPath !== 'string' || !['.js', '.mjs', '.cjs'].some((extension) => fs.existsSync(path.join(run.cloudAssemblyDir, assetPath, `${file}${extension}`)));
      })
      .map(([logicalId]) => logicalId);
    expect(withoutModule).toEqual([]);
  });

  it("makes the consumer's own bucket the dataset bucket whose uploads the trigger rule matches", () => {
    const bucket = resourcesOfType(run.template, 'AWS::S3::Bucket').find(([, resource]) => resource.Metadata?.['aws:cdk:path'] === CONSUMER_BUCKET_PATH);
    expect(bucket).toBeDefined();
    const s3Rules = resourcesOfType(run.template, 'AWS::Events::Rule')
      .map(([, resource]) => resource.Properties?.EventPattern as { source?: string[]; detail?: { bucket?: { name?: unknown[] } } })
      .filter((pattern) => pattern?.source?.includes('aws.s3'));
    expect(s3Rules).toHaveLength(1);
    expect(s3Rules[0].detail?.bucket?.name).toEqual([{ Ref: bucket![0] }]);
  });

  it("reads the synthesized stack's outputs: they name the consumer's bucket, the state machine and topic, an upload command, and carry the asked export names", () => {
    // Resolved as describe-stacks would show them, with stand-in names for the physical ones.
    const scope = { accountId: '123456789012', region: 'us-west-2', partition: 'aws' };
    const physical = physicalResourcesOf(run.template, scope);
    const resolver = new CfnResolver(run.template, physical, scope);
    const outputs = Object.fromEntries(Object.entries(run.template.Outputs ?? {}).map(([key, output]) => [key, resolver.resolveString(output.Value, key)]));
    const physicalOf = (type: string, pathSuffix = '') => {
      const matches = resourcesOfType(run.template, type).filter(([, resource]) => String(resource.Metadata?.['aws:cdk:path']).endsWith(pathSuffix));
      expect(matches).toHaveLength(1);
      return physical[matches[0][0]];
    };
    const teamBucket = physicalOf('AWS::S3::Bucket', CONSUMER_BUCKET_PATH).ref;
    expect(outputs).toEqual({
      DatasetBucketName: teamBucket,
      ArtifactsBucketName: physicalOf('AWS::S3::Bucket', 'ArtifactsBucket/Resource').ref,
      RequestPrefix: 'requests/',
      RunsPrefix: 'runs/',
      StateMachineArn: physicalOf('AWS::StepFunctions::StateMachine').ref,
      OutcomeTopicArn: physicalOf('AWS::SNS::Topic').ref,
      DashboardName: physicalOf('AWS::CloudWatch::Dashboard').ref,
      UploadCommand: `aws s3 cp request.json s3://${teamBucket}/requests/request.json`,
      // Promotion is on by default: the registry path applications read, and the rollback function.
      ModelRegistryPrefix: expect.stringMatching(/^\/llama-finetune\/consumer\/[A-Za-z0-9-]+\/models\/$/),
      PromoteFunctionName: physicalOf('AWS::Lambda::Function', 'Workflow/Promotion/Function/Function/Resource').ref,
    });
    const exportNames = Object.entries(run.template.Outputs ?? {}).map(([key, output]) => [key, output.Export?.Name]);
    expect(exportNames).toEqual(Object.keys(outputs).map((key) => [key, `${CONSUMER_EXPORT_PREFIX}${key}`]));
  });

  it("grants another stack of the app read access to the model registry, by the entry's name, with no cross-stack export", () => {
    const app = run.applicationTemplate as CfnTemplateJson & { Metadata?: { currentModelParameter?: string } };
    const parameter = app.Metadata?.currentModelParameter;
    const registryPrefix = String(run.template.Outputs?.ModelRegistryPrefix?.Value);
    // The entry's name is a plain string the application stack can hold: the registry path and the request name.
    expect(parameter).toBe(`${registryPrefix}chart-qa`);
    const statements = resourcesOfType(run.applicationTemplate, 'AWS::IAM::Policy').flatMap(([, policy]) => ((policy.Properties?.PolicyDocument as { Statement?: unknown[] } | undefined)?.Statement ?? [])) as Array<{ Action: string | string[]; Resource: unknown }>;
    // The registry's parameters (the partition is a Ref, the rest is literal).
    const parameters = `:ssm:us-west-2:123456789012:parameter${registryPrefix}*"`;
    const readStatement = statements.find((statement) => [statement.Action].flat().includes('ssm:GetParameter'));
    expect(readStatement).toBeDefined();
    expect(JSON.stringify(readStatement!.Resource)).toContain(parameters);
    // Read only: nothing that writes the registry.
    expect(statements.flatMap((statement) => [statement.Action].flat()).filter((action) => !/^ssm:Get/.test(action))).toEqual([]);
    // No Fn::ImportValue: the grant does not tie the two stacks with an export.
    expect(JSON.stringify(run.applicationTemplate)).not.toContain('Fn::ImportValue');
  });

  it('runs the CLI bin from the consumer', () => {
    expect(fs.readFileSync(path.join(run.installedPackageDir, MANIFEST.bin[CLI_NAME]), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect({ exitCode: run.cliHelp.exitCode, stderr: run.cliHelp.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(run.cliHelp.stdout).toBe(`${usage()}\n`);
  });
});

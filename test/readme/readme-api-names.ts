/**
 * The names of the package's API that README.md mentions, found precisely enough that each one
 * really is the package's (not aws-cdk-lib's, not a stack output's, not a state's):
 *
 * 1. Snippets (```ts / ```typescript, fragments inside their rosetta fixture): every name imported
 *    from the package; every property, method or static member accessed on something whose type
 *    the TypeScript checker resolves to a declaration under lib/ (`finetuning.grantStartRuns`,
 *    `finetuning.customizationRole.grantPassRole`, `StorageEncryption.KMS`); every key of an object
 *    literal whose contextual type is declared under lib/ (the props: `storage`, `datasetBucket`,
 *    `evaluation.maxConcurrency`...).
 * 2. Code spans in the prose:
 *    - `finetuning.a.b(...)`: README's name for a LlamaFinetuning; the chain is resolved by the
 *      checker as in 1 (call arguments dropped), e.g. `finetuning.workflow.promotion.function`;
 *    - `name(...)` / `name()`, a bare call: jsii has no free functions, so the name must be a
 *      method of some type of the assembly (`acknowledgeFinding(role, id, reason)`), unless listed
 *      in NOT_PACKAGE_CALLS (the test stand-ins' helpers README describes);
 *    - a bare `grant*`, `metric*` or `on*` name (`grantStopRuns`): a method of some type;
 *    - `Name` or `Name.member` where Name is a class, interface or enum declared under lib/
 *      (`FinetuningStorage`, `FinetuningWorkflow.historyEstimate`): that type, and its member.
 * Everything else in backticks (stack outputs, metrics, states, cdk.json keys, AWS names) is not
 * the package's API and is not checked.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { composeSnippet, fencedBlocks, LineOrigin, REPOSITORY, typeScriptSnippets } from './readme-snippets';

const LIB = path.join(REPOSITORY, 'lib') + path.sep;

/** Bare calls in README's prose that are not the package's: the test stand-ins' helpers. */
export const NOT_PACKAGE_CALLS: Record<string, string> = {
  throttle: "the stand-ins' throttling storms (test/support)",
  startLocalAws: 'starts the stand-ins (test/support/local-aws.ts)',
};

/** One name of the package's API that README mentions. */
export interface ApiMention {
  /** The type: the declaring type for members; for `anyType`, undefined. */
  readonly type?: string;
  /** The member, if a member is meant. */
  readonly member?: string;
  /** A method of any type is enough (bare calls and grant/metric/on names in prose). */
  readonly anyType?: boolean;
  /** Where README mentions it (README.md:123), first mention. */
  readonly where: string;
}

/** `Type`, `Type.member`, or `*.member`. */
export function mentionKey(mention: ApiMention): string {
  if (mention.anyType) return `*.${mention.member}()`;
  return mention.member ? `${mention.type}.${mention.member}` : `${mention.type}`;
}

/**
 * Every mention in a markdown text, one per key (the first place), in order of first mention.
 * `packageName` is what snippets import; the checker resolves it to lib/index.ts.
 */
export function readmeApiMentions(markdown: string, packageName: string, file = 'README.md', fixtureDir?: string): ApiMention[] {
  const mentions = new Map<string, ApiMention>();
  const add = (mention: ApiMention) => {
    const key = mentionKey(mention);
    if (!mentions.has(key)) mentions.set(key, mention);
  };

  // Snippets, plus one synthetic snippet of the prose's `finetuning.…` chains (in the finetuning fixture).
  const snippets = typeScriptSnippets(markdown, file).map((snippet) => composeSnippet(snippet, file, fixtureDir));
  const prose = proseCodeSpans(markdown);
  const chains = prose.filter((span) => /^finetuning(\.[A-Za-z_]\w*(\([^`]*?\))?)+$/.test(span.text));
  if (chains.length > 0) {
    const lines = chains.map((span) => span.text.replace(/\([^()]*\)/g, '') + ';');
    const fixture = path.join(fixtureDir ?? path.join(REPOSITORY, 'rosetta'), 'finetuning.ts-fixture');
    const fixtureText = fs.readFileSync(fixture, 'utf8').replace(/^\s*\/\/\/ here\s*$/m, lines.join('\n'));
    const fixtureLineCount = fs.readFileSync(fixture, 'utf8').split('\n').findIndex((line) => line.trim() === '/// here');
    const origins: LineOrigin[] = fixtureText.split('\n').map((_, i) => {
      const span = chains[i - fixtureLineCount];
      return span ? { file, line: span.line } : undefined;
    });
    snippets.push({ text: fixtureText + '\nexport {};', origins });
  }

  const files = new Map(snippets.map((composed, i) => [path.join(REPOSITORY, 'test', 'readme', `__mentions-${i}.ts`), composed]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    baseUrl: REPOSITORY,
    // The package's name resolves to its sources here: only the names' declarations matter.
    paths: { [packageName]: ['lib/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => files.get(path.resolve(name))?.text ?? readFile(name);
  host.fileExists = (name) => files.has(path.resolve(name)) || fileExists(name);
  host.getSourceFile = (name, language, onError, create) => {
    const composed = files.get(path.resolve(name));
    return composed ? ts.createSourceFile(name, composed.text, language, true) : getSourceFile(name, language, onError, create);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const checker = program.getTypeChecker();

  for (const [fileName, composed] of files) {
    const source = program.getSourceFile(fileName)!;
    const whereOf = (node: ts.Node): string | undefined => {
      const origin = composed.origins[source.getLineAndCharacterOfPosition(node.getStart(source)).line];
      return origin && origin.file === file ? `${file}:${origin.line}` : undefined;
    };
    const visit = (node: ts.Node) => {
      const where = whereOf(node);
      if (where && ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.moduleSpecifier.text === packageName) {
        const bindings = node.importClause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) add({ type: (element.propertyName ?? element.name).text, where });
      }
      if (where && ts.isPropertyAccessExpression(node)) {
        const declared = libraryMember(checker, checker.getSymbolAtLocation(node.name));
        if (declared) add({ ...declared, where });
      }
      if (where && ts.isObjectLiteralExpression(node)) {
        const contextual = checker.getContextualType(node);
        for (const property of node.properties) {
          if (!property.name || !(ts.isIdentifier(property.name) || ts.isStringLiteral(property.name))) continue;
          const declared = contextual && libraryMember(checker, checker.getPropertyOfType(checker.getNonNullableType(contextual), property.name.text));
          if (declared) add({ ...declared, where: whereOf(property) ?? where });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }

  // Prose: bare calls, grant/metric/on names, and the library's type names.
  const libraryTypes = libraryTypeNames(program);
  for (const span of prose) {
    const where = `${file}:${span.line}`;
    const call = /^([a-z]\w*)\(.*\)$/.exec(span.text);
    if (call && !(call[1] in NOT_PACKAGE_CALLS)) add({ member: call[1], anyType: true, where });
    if (/^(grant|metric|on)[A-Z]\w*$/.test(span.text)) add({ member: span.text, anyType: true, where });
    const typeName = /^([A-Z]\w*)(?:\.([A-Za-z_]\w*))?(?:\(.*\))?$/.exec(span.text);
    if (typeName && libraryTypes.has(typeName[1])) {
      add({ type: typeName[1], where });
      if (typeName[2]) add({ type: typeName[1], member: typeName[2], where });
    }
  }
  return [...mentions.values()];
}

/** The declaring type and member name, if the symbol is a member declared under lib/. */
function libraryMember(checker: ts.TypeChecker, symbol: ts.Symbol | undefined): { type: string; member: string } | undefined {
  if (!symbol) return undefined;
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  for (const declaration of target.declarations ?? []) {
    if (!path.resolve(declaration.getSourceFile().fileName).startsWith(LIB)) continue;
    const owner = declaration.parent;
    if ((ts.isClassDeclaration(owner) || ts.isInterfaceDeclaration(owner) || ts.isEnumDeclaration(owner)) && owner.name) {
      return { type: owner.name.text, member: target.name };
    }
  }
  return undefined;
}

/** Names of the classes, interfaces and enums declared in lib/ (exported or not). */
function libraryTypeNames(program: ts.Program): Set<string> {
  const names = new Set<string>();
  for (const source of program.getSourceFiles()) {
    if (!path.resolve(source.fileName).startsWith(LIB)) continue;
    for (const statement of source.statements) {
      if ((ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name) names.add(statement.name.text);
    }
  }
  return names;
}

/** Inline code spans outside fenced blocks, with their line. */
export function proseCodeSpans(markdown: string): { text: string; line: number }[] {
  const fenced = new Set<number>();
  for (const block of fencedBlocks(markdown)) for (let line = block.fenceLine; line <= block.fenceLine + block.lines.length + 1; line++) fenced.add(line);
  const spans: { text: string; line: number }[] = [];
  markdown.split('\n').forEach((text, i) => {
    if (fenced.has(i + 1)) return;
    for (const match of text.matchAll(/(`+)([^`]+?)\1(?!`)/g)) spans.push({ text: match[2].trim(), line: i + 1 });
  });
  return spans;
}

/** A jsii assembly, as far as these checks read it. */
export interface JsiiAssembly {
  readonly name: string;
  readonly types: Record<string, JsiiType>;
}

interface JsiiType {
  readonly name: string;
  readonly kind: 'class' | 'interface' | 'enum';
  readonly base?: string;
  readonly interfaces?: string[];
  readonly methods?: { name: string; static?: boolean }[];
  readonly properties?: { name: string; static?: boolean }[];
  readonly members?: { name: string }[];
}

/** Why a mention is not in the assembly, or undefined when it is. */
export function missingFromAssembly(assembly: JsiiAssembly, mention: ApiMention): string | undefined {
  const types = Object.values(assembly.types);
  const memberNames = (type: JsiiType): string[] => [...(type.methods ?? []), ...(type.properties ?? []), ...(type.members ?? [])].map((member) => member.name);
  if (mention.anyType) {
    const owners = types.filter((type) => (type.methods ?? []).some((method) => method.name === mention.member));
    return owners.length > 0 ? undefined : `no type of ${assembly.name} has a method '${mention.member}' (a free function is dropped by jsii: make it a method)`;
  }
  const type = types.find((candidate) => candidate.name === mention.type);
  if (!type) return `${assembly.name} has no type '${mention.type}'`;
  if (!mention.member) return undefined;
  // The member on the type or one of its ancestors within the assembly.
  const seen = new Set<string>();
  const queue = [type];
  while (queue.length > 0) {
    const current = queue.shift()!;
    if (memberNames(current).includes(mention.member)) return undefined;
    for (const parent of [current.base, ...(current.interfaces ?? [])]) {
      if (parent && !seen.has(parent) && assembly.types[parent]) {
        seen.add(parent);
        queue.push(assembly.types[parent]);
      }
    }
  }
  return `${assembly.name}.${mention.type} has no member '${mention.member}'`;
}

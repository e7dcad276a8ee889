/**
 * The TypeScript snippets of README.md, and how each becomes a file a TypeScript user could
 * compile against the installed package.
 *
 * A snippet is a fenced block whose info string starts with `ts` or `typescript`. It is either:
 * - complete: compiled as it stands, as its own module (no fixture); or
 * - a fragment, marked in the info string the way jsii-rosetta marks them, so the same README
 *   also translates to other languages: ```` ```ts fixture=NAME ````. It is compiled inside
 *   `rosetta/NAME.ts-fixture`: the snippet's import statements go first, the fixture's text
 *   follows, and the rest of the snippet replaces the fixture's `/// here` line. Fixtures only
 *   declare what a fragment takes from around it (a stack, a construct, roles), so the fragment's
 *   own code is still type-checked in full.
 * Any other attribute in the info string is refused, so a misspelt `fixture` cannot silently turn
 * a fragment into a complete snippet (which would fail with names the fixture should declare).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

export const REPOSITORY = path.resolve(__dirname, '..', '..');
export const README = path.join(REPOSITORY, 'README.md');
/** Where fixtures live (jsii-rosetta's default place, next to package.json). */
export const FIXTURE_DIR = path.join(REPOSITORY, 'rosetta');
/** The line of a fixture that the fragment replaces (jsii-rosetta's marker). */
export const FIXTURE_PLACEHOLDER = '/// here';

const TYPESCRIPT_LANGUAGES = new Set(['ts', 'typescript']);

export interface FencedBlock {
  /** 1-based line of the opening fence in the markdown. */
  readonly fenceLine: number;
  /** The info string's first word ('' for a bare fence). */
  readonly language: string;
  /** The info string's `key=value` attributes. */
  readonly attributes: Record<string, string>;
  /** The block's lines, without the fences. */
  readonly lines: string[];
}

export interface ReadmeSnippet extends FencedBlock {
  /** The fixture it is compiled in; undefined for a complete snippet. */
  readonly fixture?: string;
}

/** Every fenced code block of a markdown text. */
export function fencedBlocks(markdown: string, file = 'README.md'): FencedBlock[] {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*(.*)$/.exec(lines[index]);
    if (!open) continue;
    const fence = open[1];
    const [language = '', ...rest] = open[2].trim().split(/\s+/).filter(Boolean);
    const attributes: Record<string, string> = {};
    for (const word of rest) {
      const pair = /^([A-Za-z][\w-]*)=(.+)$/.exec(word);
      if (!pair) throw new Error(`${file}:${index + 1}: the code fence's info string has '${word}', which is not key=value (write \`\`\`ts fixture=NAME for a fragment)`);
      attributes[pair[1]] = pair[2];
    }
    const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length && !closing.test(lines[index]); index++) body.push(lines[index]);
    if (index >= lines.length) throw new Error(`${file}:${start + 1}: code block is never closed`);
    blocks.push({ fenceLine: start + 1, language: language.toLowerCase(), attributes, lines: body });
  }
  return blocks;
}

/** The TypeScript snippets of a markdown text, in order. */
export function typeScriptSnippets(markdown: string, file = 'README.md'): ReadmeSnippet[] {
  return fencedBlocks(markdown, file)
    .filter((block) => TYPESCRIPT_LANGUAGES.has(block.language))
    .map((block) => {
      const unknown = Object.keys(block.attributes).filter((key) => key !== 'fixture');
      if (unknown.length > 0) throw new Error(`${file}:${block.fenceLine}: unknown code block attribute ${unknown.map((key) => `'${key}'`).join(', ')}; the only one is fixture=NAME (rosetta/NAME.ts-fixture)`);
      return { ...block, fixture: block.attributes.fixture };
    });
}

/** Where a line of a composed file came from. */
export type LineOrigin = { readonly file: string; readonly line: number } | undefined;

/** A snippet as a TypeScript module, with the origin of every line. */
export interface ComposedSnippet {
  readonly text: string;
  /** origins[i]: where line i (0-based) of `text` came from; undefined for lines added here. */
  readonly origins: LineOrigin[];
}

/**
 * The module a snippet compiles as: complete snippets as they are, fragments inside their
 * fixture (imports first, the rest at `/// here`), and `export {}` so each is its own module.
 */
export function composeSnippet(snippet: ReadmeSnippet, file = 'README.md', fixtureDir = FIXTURE_DIR): ComposedSnippet {
  const lines: string[] = [];
  const origins: LineOrigin[] = [];
  const push = (text: string, origin: LineOrigin) => {
    lines.push(text);
    origins.push(origin);
  };
  const readmeLine = (i: number): LineOrigin => ({ file, line: snippet.fenceLine + 1 + i });

  if (snippet.fixture === undefined) {
    snippet.lines.forEach((text, i) => push(text, readmeLine(i)));
  } else {
    const fixtureFile = path.join(fixtureDir, `${snippet.fixture}.ts-fixture`);
    if (!fs.existsSync(fixtureFile)) throw new Error(`${file}:${snippet.fenceLine}: fixture=${snippet.fixture} names ${path.relative(REPOSITORY, fixtureFile)}, which does not exist`);
    const fixtureLines = fs.readFileSync(fixtureFile, 'utf8').split('\n');
    const here = fixtureLines.findIndex((text) => text.trim() === FIXTURE_PLACEHOLDER);
    if (here < 0) throw new Error(`${path.relative(REPOSITORY, fixtureFile)} has no '${FIXTURE_PLACEHOLDER}' line for the fragment`);
    const importLines = importStatementLines(snippet.lines.join('\n'));
    const fixtureOrigin = (i: number): LineOrigin => ({ file: path.relative(REPOSITORY, fixtureFile), line: i + 1 });
    snippet.lines.forEach((text, i) => importLines.has(i) && push(text, readmeLine(i)));
    fixtureLines.slice(0, here).forEach((text, i) => push(text, fixtureOrigin(i)));
    snippet.lines.forEach((text, i) => !importLines.has(i) && push(text, readmeLine(i)));
    fixtureLines.slice(here + 1).forEach((text, i) => push(text, fixtureOrigin(here + 1 + i)));
  }
  push('export {};', undefined);
  return { text: lines.join('\n'), origins };
}

/** 0-based lines taken by top-level import statements (hoisted above the fixture). */
function importStatementLines(code: string): Set<number> {
  const source = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.Latest, true);
  const taken = new Set<number>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isImportEqualsDeclaration(statement)) continue;
    const first = source.getLineAndCharacterOfPosition(statement.getStart(source)).line;
    const last = source.getLineAndCharacterOfPosition(statement.getEnd()).line;
    for (let line = first; line <= last; line++) taken.add(line);
  }
  return taken;
}

/** A compiler diagnostic as `README.md:712:5 TS2304 Cannot find name 'x'.`, at its origin. */
export function describeDiagnostic(diagnostic: ts.Diagnostic, composed?: ComposedSnippet): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  if (!diagnostic.file || diagnostic.start === undefined) return `TS${diagnostic.code} ${message}`;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const origin = composed?.origins[line];
  const where = origin ? `${origin.file}:${origin.line}:${character + 1}` : `${diagnostic.file.fileName}:${line + 1}:${character + 1}`;
  return `${where} TS${diagnostic.code} ${message}`;
}

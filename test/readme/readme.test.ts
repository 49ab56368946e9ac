import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { entries } from '../../scripts/entries';

/*
 * Every ```ts block of README.md and of docs/*.md must compile as written (strict, against src/
 * through the package names), and every npm script or bin they tell a user to run must exist.
 */

const root = path.resolve(__dirname, '..', '..');
const documents = [
  'README.md',
  ...fs
    .readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
  exports: Record<string, unknown>;
};

function fencedBlocks(languages: readonly string[]): Array<{ where: string; code: string }> {
  const blocks: Array<{ where: string; code: string }> = [];
  for (const document of documents) {
    const text = fs.readFileSync(path.join(root, document), 'utf8');
    const fence = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```\s*$/gm;
    for (let match = fence.exec(text); match !== null; match = fence.exec(text)) {
      if (languages.includes(match[1] ?? '')) {
        blocks.push({ where: `${document}:${text.slice(0, match.index).split('\n').length}`, code: match[2] ?? '' });
      }
    }
  }
  return blocks;
}

const snippets = fencedBlocks(['ts', 'typescript']);
const shellBlocks = fencedBlocks(['sh', 'bash', 'shell', 'console']);

/** 'stigg-gate' and 'stigg-gate/<entry>' resolve to the sources of the entry list (entries.json). */
function packagePaths(): Record<string, string[]> {
  return {
    ...Object.fromEntries(entries.map((entry) => [entry.specifier, [path.join(root, entry.source)]])),
    // docs/testing.md's vitest example: vitest is not installed here; its describe/it/expect mirror jest's.
    vitest: [path.join(root, 'node_modules', '@jest', 'globals')],
  };
}

describe('README.md and docs/', () => {
  let diagnostics: Map<number, string>;
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(__dirname, '.snippets-'));
    const files = snippets.map(function writeSnippet(snippet, index) {
      const file = path.join(dir, `snippet-${index + 1}-${snippet.where.replace(/[^\w]+/g, '-')}.ts`);
      // `export {}` makes each snippet a module of its own, as it would be in the reader's project.
      fs.writeFileSync(file, `${snippet.code}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      lib: ['lib.es2022.d.ts'],
      types: ['node'],
      strict: true,
      noUncheckedIndexedAccess: true,
      esModuleInterop: true,
      skipLibCheck: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      noEmit: true,
      baseUrl: root,
      paths: packagePaths(),
    });
    diagnostics = new Map();
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const index = files.indexOf(diagnostic.file?.fileName ?? '');
      // An error in src/ (someone else's half-done work) is not the README's fault; report it under every snippet.
      const keys = index === -1 ? files.map((_file, i) => i) : [index];
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      const where =
        diagnostic.file && diagnostic.start !== undefined
          ? `${path.relative(root, diagnostic.file.fileName)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1}`
          : '(global)';
      for (const key of keys) diagnostics.set(key, `${diagnostics.get(key) ?? ''}${where}: ${text}\n`);
    }
  }, 60_000);

  afterAll(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has TypeScript snippets to check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(6);
  });

  it.each(snippets.map((snippet, index) => [index, snippet.where] as const))('snippet %i (%s) compiles', (index) => {
    const errors = diagnostics.get(index);
    if (errors !== undefined) {
      throw new Error(`The snippet at ${snippets[index]?.where} does not compile:\n${errors}\n--- snippet ---\n${snippets[index]?.code}`);
    }
  });

  it('names only npm scripts and bins that exist', () => {
    const commands = shellBlocks.flatMap((block) => block.code.split('\n'));
    const scripts = commands.flatMap((command) => [...command.matchAll(/\bnpm run ([\w:-]+)/g)].map((match) => match[1] ?? ''));
    const bins = commands.flatMap((command) => [...command.matchAll(/\bnpx ([\w@/.-]+)/g)].map((match) => match[1] ?? ''));
    expect(commands.some((command) => /\bnpm install && npm start\b/.test(command))).toBe(true);
    expect(commands.some((command) => /^\s*npm test\s*$/.test(command))).toBe(true);
    for (const script of scripts) expect(Object.keys(pkg.scripts)).toContain(script);
    for (const bin of bins.filter((name) => !['jest', 'tsc'].includes(name))) expect(Object.keys(pkg.bin)).toContain(bin);
  });
});

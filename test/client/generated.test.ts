import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { generate } from '../../scripts/gen-client';

const root = path.resolve(__dirname, '../..');

describe('src/client/generated (npm run gen:client)', () => {
  it.each([...generate()].map(([file, content]) => [path.relative(root, file), content]))(
    '%s equals a fresh generation from the .graphql sources',
    (file, content) => {
      expect(fs.readFileSync(path.join(root, file), 'utf8')).toBe(content);
    },
  );
});

describe('the client reads no file and needs no Node built-in at run time', () => {
  it('has no node: import, fs, path or __dirname in src/client', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (
          file.endsWith('.ts') &&
          /from '(node:\w+|fs|path|http|https|stream)'|require\(|__dirname|readFileSync/.test(fs.readFileSync(file, 'utf8'))
        ) {
          offenders.push(path.relative(root, file));
        }
      }
    };
    walk(path.join(root, 'src', 'client'));
    expect(offenders).toEqual([]);
  });

  it('bundles for a platform without Node (workerd-like: neutral, browser conditions) with nothing left external', async () => {
    const result = await build({
      stdin: { contents: "export { Stigg, StiggClient } from './src/client';", resolveDir: root, loader: 'ts' },
      bundle: true,
      write: false,
      platform: 'neutral',
      mainFields: ['module', 'main'],
      conditions: ['worker', 'browser'],
      format: 'esm',
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => /^node:/.test(input))).toEqual([]);
    // The wire is graphql-request, with the graphql parser it needs: the only packages bundled in.
    const packages = new Set(inputs.map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1]).filter(Boolean));
    expect([...packages].sort()).toEqual(['graphql', 'graphql-request']);
    const external = Object.values(result.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path));
    expect(external).toEqual([]);
    expect(inputs).toEqual(expect.arrayContaining(['src/client/generated/documents.ts', 'src/client/transport.ts']));
    expect(inputs).not.toContain('src/client/generated/schema.ts');
    const code = result.outputFiles[0]?.text ?? '';
    expect(code).toContain('mutation ReportUsageBulk');
  });
});

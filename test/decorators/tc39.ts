import ts from 'typescript';
import * as decorators from '../../src/decorators';

/**
 * Compiles `source` as TypeScript 5 does without experimentalDecorators (standard decorators,
 * down-levelled for Node) and runs it; `stigg-gate/decorators` resolves to the sources under test.
 */
export function loadStandard(source: string): Record<string, unknown> {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, experimentalDecorators: false },
  });
  if (!outputText.includes('__esDecorate')) throw new Error('expected standard decorators in the output');
  const module = { exports: {} as Record<string, unknown> };
  function requireShim(name: string): unknown {
    if (name === 'stigg-gate/decorators') return decorators;
    throw new Error(`unexpected require ${name}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- runs the module TypeScript just compiled, as a CommonJS module would
  new Function('require', 'module', 'exports', outputText)(requireShim, module, module.exports);
  return module.exports;
}

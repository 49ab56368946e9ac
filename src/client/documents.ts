import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, visit } from 'graphql';
import type { DocumentNode, FragmentDefinitionNode } from 'graphql';
import type { Operations } from './types';

export type OperationName = keyof Operations;

export interface LoadedOperation {
  readonly name: OperationName;
  readonly kind: 'query' | 'mutation';
  /** The root field whose value the method resolves to (aliases are not used). */
  readonly rootField: string;
  /** The operation's source followed by the fragments it spreads, transitively. */
  readonly query: string;
}

// The .graphql files sit beside this module in src/ and in dist/cjs (scripts/build.js copies them).
const clientDir = __dirname;
const loaded = new Map<OperationName, LoadedOperation>();
let fragmentSources: Map<string, { source: string; spreads: string[] }> | undefined;

function spreadsOf(node: DocumentNode | FragmentDefinitionNode): string[] {
  const names: string[] = [];
  visit(node, {
    FragmentSpread(spread) {
      if (!names.includes(spread.name.value)) names.push(spread.name.value);
    },
  });
  return names;
}

function loadFragments(): Map<string, { source: string; spreads: string[] }> {
  if (fragmentSources) return fragmentSources;
  const source = fs.readFileSync(path.join(clientDir, 'fragments.graphql'), 'utf8');
  const fragments = new Map<string, { source: string; spreads: string[] }>();
  for (const definition of parse(source).definitions) {
    if (definition.kind !== Kind.FRAGMENT_DEFINITION || !definition.loc) continue;
    fragments.set(definition.name.value, {
      source: source.slice(definition.loc.start, definition.loc.end),
      spreads: spreadsOf(definition),
    });
  }
  fragmentSources = fragments;
  return fragments;
}

/** Reads, parses and caches operations/<name>.graphql with the fragments it needs. */
export function loadOperation(name: OperationName): LoadedOperation {
  const cached = loaded.get(name);
  if (cached) return cached;
  const source = fs.readFileSync(path.join(clientDir, 'operations', `${name}.graphql`), 'utf8').trim();
  const document = parse(source);
  const [operation] = document.definitions;
  if (document.definitions.length !== 1 || operation?.kind !== Kind.OPERATION_DEFINITION) {
    throw new Error(`operations/${name}.graphql must hold exactly one operation`);
  }
  const [root] = operation.selectionSet.selections;
  if (root?.kind !== Kind.FIELD || operation.operation === 'subscription') {
    throw new Error(`operations/${name}.graphql must be a query or mutation selecting one root field`);
  }
  const fragments = loadFragments();
  const needed: string[] = [];
  const pending = spreadsOf(document);
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    if (needed.includes(next)) continue;
    const fragment = fragments.get(next);
    if (!fragment) throw new Error(`operations/${name}.graphql spreads unknown fragment ${next}`);
    needed.push(next);
    pending.push(...fragment.spreads);
  }
  const query = [source, ...needed.map((fragment) => fragments.get(fragment)?.source ?? '')].join('\n\n');
  const result: LoadedOperation = { name, kind: operation.operation, rootField: root.name.value, query };
  loaded.set(name, result);
  return result;
}

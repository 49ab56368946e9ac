import { OPERATION_DOCUMENTS } from './generated/documents';
import type { Operations } from './types';

export type OperationName = keyof Operations;

export interface LoadedOperation {
  readonly name: OperationName;
  /** The operation's own name in its document, sent as `operationName`. */
  readonly operationName: string;
  readonly kind: 'query' | 'mutation';
  /** The root field whose value the method resolves to (aliases are not used). */
  readonly rootField: string;
  /** The operation's source followed by the fragments it spreads, transitively. */
  readonly query: string;
}

// Compiled into the build by scripts/gen-client.js: nothing is read from disk at run time, so the
// client bundles (esbuild, webpack, ncc) and runs where there is no file system (workerd).
// Fails to compile when a document is missing or its kind or root field differs from types.ts.
const operations: {
  readonly [K in OperationName]: LoadedOperation & {
    readonly kind: Operations[K]['kind'];
    readonly rootField: Operations[K]['rootField'];
  };
} = OPERATION_DOCUMENTS;

/** The document of operations/<name>.graphql with the fragments it needs. */
export function loadOperation(name: OperationName): LoadedOperation {
  return operations[name];
}

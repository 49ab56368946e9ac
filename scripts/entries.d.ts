// Types of scripts/entries.js for the TypeScript tests that read the entry list.
export interface Entry {
  subpath: string;
  name: string;
  specifier: string;
  source: string;
  pending: boolean;
  cjs: string;
  cjsTypes: string;
  esm: string;
  esmTypes: string;
}
export const PACKAGE: string;
export const root: string;
export const entries: readonly Entry[];
export function exportsMap(): Record<string, unknown>;
export function typesVersions(): Record<string, Record<string, string[]>>;
export function packageFields(): Record<string, unknown>;
export function tsconfigPaths(): Record<string, string[]>;
export function jestModuleNameMapper(): Record<string, string>;

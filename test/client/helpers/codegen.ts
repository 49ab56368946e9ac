/**
 * Generates src/client/types.ts from schema.graphql, fragments.graphql and operations/*.graphql.
 * test/client/types.test.ts fails when the checked-in file differs from a fresh generation; to
 * regenerate after changing a document: npm run gen:client (or STIGG_WRITE_TYPES=1 npx jest test/client/types.test.ts)
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  Kind,
  OperationTypeNode,
  buildSchema,
  isEnumType,
  isInputType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  parse,
  typeFromAST,
} from 'graphql';
import type {
  FragmentDefinitionNode,
  GraphQLInputType,
  GraphQLObjectType,
  GraphQLOutputType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';

export const clientDir = path.resolve(__dirname, '../../../src/client');
export const typesFile = path.join(clientDir, 'types.ts');

export interface SourceDocuments {
  schema: GraphQLSchema;
  fragments: FragmentDefinitionNode[];
  operations: Array<{ name: string; definition: OperationDefinitionNode }>;
}

export function loadSourceDocuments(): SourceDocuments {
  const schema = buildSchema(fs.readFileSync(path.join(clientDir, 'schema.graphql'), 'utf8'));
  const fragments = parse(fs.readFileSync(path.join(clientDir, 'fragments.graphql'), 'utf8')).definitions.map(
    function asFragment(definition) {
      if (definition.kind !== Kind.FRAGMENT_DEFINITION) throw new Error('fragments.graphql may only hold fragments');
      return definition;
    },
  );
  const operationsDir = path.join(clientDir, 'operations');
  const operations = fs
    .readdirSync(operationsDir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map(function loadOperation(file) {
      const definitions = parse(fs.readFileSync(path.join(operationsDir, file), 'utf8')).definitions;
      const [definition] = definitions;
      if (definitions.length !== 1 || definition?.kind !== Kind.OPERATION_DEFINITION) {
        throw new Error(`${file} must hold exactly one operation (fragments belong in fragments.graphql)`);
      }
      return { name: path.basename(file, '.graphql'), definition };
    });
  return { schema, fragments, operations };
}

const SCALARS_OUT: Record<string, string> = {
  String: 'string',
  ID: 'string',
  Int: 'number',
  Float: 'number',
  Boolean: 'boolean',
  DateTime: 'DateTime',
  JSON: 'JsonObject',
  UUID: 'string',
  ConnectionCursor: 'string',
};
/**
 * Enums that src/core/types.ts already declares; types.ts re-exports them instead of declaring its own,
 * through the core's public face (a core module other than core/index or core/internal fails lint).
 */
const SHARED_WITH_CORE: Record<string, string> = { AccessDeniedReason: '../core' };

const SCALARS_IN: Record<string, string> = { ...SCALARS_OUT, DateTime: 'DateTimeInput' };

export function typeNameOfFragment(fragmentName: string): string {
  if (!fragmentName.endsWith('Fragment')) throw new Error(`fragment ${fragmentName} must be named <TypeName>Fragment`);
  return fragmentName.slice(0, -'Fragment'.length);
}

export function generateTypes(sources: SourceDocuments = loadSourceDocuments()): string {
  const { schema, fragments, operations } = sources;
  const enums = new Set<string>();
  const inputs = new Set<string>();
  const fragmentTypes = new Map(fragments.map((f) => [f.name.value, typeNameOfFragment(f.name.value)]));

  function scalar(name: string, table: Record<string, string>): string {
    const mapped = table[name];
    if (mapped === undefined) throw new Error(`no TypeScript type for scalar ${name}`);
    return mapped;
  }

  function inputType(type: GraphQLInputType): { ts: string; nullable: boolean } {
    if (isNonNullType(type)) return { ts: inputType(type.ofType).ts, nullable: false };
    if (isListType(type)) return { ts: `ReadonlyArray<${inputType(type.ofType).ts}>`, nullable: true };
    if (isScalarType(type)) return { ts: scalar(type.name, SCALARS_IN), nullable: true };
    if (isEnumType(type)) enums.add(type.name);
    else if (isInputObjectType(type) && !inputs.has(type.name)) {
      inputs.add(type.name);
      for (const field of Object.values(type.getFields())) inputType(field.type);
    }
    return { ts: type.name, nullable: true };
  }

  function outputType(type: GraphQLOutputType, selectionSet: SelectionSetNode | undefined, indent: string): string {
    if (isNonNullType(type)) return nonNull(outputType(type.ofType, selectionSet, indent));
    if (isListType(type)) {
      const item = outputType(type.ofType, selectionSet, indent);
      const bare = nonNull(item);
      return `${bare === item ? bare : `(${item})`}[] | null`;
    }
    if (isScalarType(type)) return `${scalar(type.name, SCALARS_OUT)} | null`;
    if (isEnumType(type)) {
      enums.add(type.name);
      return `${type.name} | null`;
    }
    if (isObjectType(type) && selectionSet) return `${selection(type, selectionSet, indent)} | null`;
    throw new Error(`cannot type ${String(type)} (missing selection set or unsupported abstract type)`);
  }

  function nonNull(ts: string): string {
    return ts.endsWith(' | null') ? ts.slice(0, -' | null'.length) : ts;
  }

  function selection(parent: GraphQLObjectType, selectionSet: SelectionSetNode, indent: string): string {
    const spreads: string[] = [];
    const fields: string[] = [];
    for (const node of selectionSet.selections) {
      if (node.kind === Kind.FRAGMENT_SPREAD) {
        const name = fragmentTypes.get(node.name.value);
        if (name === undefined) throw new Error(`unknown fragment ${node.name.value}`);
        spreads.push(name);
      } else if (node.kind === Kind.FIELD) {
        const key = node.alias?.value ?? node.name.value;
        if (node.name.value === '__typename') {
          fields.push(`${indent}  ${key}: '${parent.name}';`);
          continue;
        }
        const field = parent.getFields()[node.name.value];
        if (!field) throw new Error(`${parent.name}.${node.name.value} is not in the schema`);
        fields.push(`${indent}  ${key}: ${outputType(field.type, node.selectionSet, `${indent}  `)};`);
      } else {
        throw new Error('inline fragments are not supported by the generator');
      }
    }
    const parts = [...spreads];
    if (fields.length > 0 || parts.length === 0) parts.push(`{\n${fields.join('\n')}\n${indent}}`);
    return parts.join(' & ');
  }

  const fragmentBlocks = fragments.map(function fragmentBlock(fragment) {
    const parent = schema.getType(fragment.typeCondition.name.value);
    if (!isObjectType(parent)) throw new Error(`fragment ${fragment.name.value} must be on an object type`);
    const body = selection(parent, fragment.selectionSet, '');
    const name = typeNameOfFragment(fragment.name.value);
    const doc = `/** Selected by ${fragment.name.value} (on ${parent.name}). */\n`;
    return body.startsWith('{') ? `${doc}export interface ${name} ${body}` : `${doc}export type ${name} = ${body};`;
  });

  const operationBlocks = operations.map(function operationBlock({ name, definition }) {
    const root = definition.operation === OperationTypeNode.QUERY ? schema.getQueryType() : schema.getMutationType();
    if (!root) throw new Error(`the schema has no ${definition.operation} type`);
    const [field, ...rest] = definition.selectionSet.selections;
    if (field?.kind !== Kind.FIELD || rest.length > 0) throw new Error(`${name} must select exactly one root field`);
    const rootField = root.getFields()[field.name.value];
    if (!rootField) throw new Error(`${name}: ${root.name}.${field.name.value} is not in the schema`);
    const variables = (definition.variableDefinitions ?? []).map(function variable(v) {
      const type = typeFromAST(schema, v.type);
      if (!isInputType(type)) throw new Error(`${name}: unknown type for $${v.variable.name.value}`);
      const { ts, nullable } = inputType(type);
      return `      ${v.variable.name.value}${nullable ? '?' : ''}: ${ts}${nullable ? ' | null' : ''};`;
    });
    const result = outputType(rootField.type, field.selectionSet, '    ');
    return [
      `  ${name}: {`,
      `    kind: '${definition.operation}';`,
      `    rootField: '${field.name.value}';`,
      `    variables: {\n${variables.join('\n')}\n    };`,
      `    result: ${result};`,
      '  };',
    ].join('\n');
  });

  const inputBlocks = [...inputs].sort().map(function inputBlock(name) {
    const type = schema.getType(name);
    if (!isInputObjectType(type)) throw new Error(`${name} is not an input type`);
    const lines = Object.values(type.getFields()).map(function inputField(field) {
      const { ts, nullable } = inputType(field.type);
      return `  ${field.name}${nullable ? '?' : ''}: ${ts}${nullable ? ' | null' : ''};`;
    });
    return `export interface ${name} {\n${lines.join('\n')}\n}`;
  });

  const sharedImports: string[] = [];
  const enumBlocks = [...enums].sort().map(function enumBlock(name) {
    const type = schema.getType(name);
    if (!isEnumType(type)) throw new Error(`${name} is not an enum`);
    const values = type
      .getValues()
      .map((v) => `  | '${v.value as string}'`)
      .join('\n');
    const shared = SHARED_WITH_CORE[name];
    if (shared === undefined) return `export type ${name} =\n${values};`;
    sharedImports.push(`import type { ${name} } from '${shared}';`);
    return [
      `// ${name} is core's own type (one symbol for the root entry point); this fails to compile when its`,
      '// known values drift from the schema (an open `string & {}` end for values Stigg adds later is allowed).',
      `export type { ${name} };`,
      `export type ${name}MatchesSchema = Expect<SameUnion<`,
      `  KnownValues<${name}>,`,
      `${values}`,
      '>>;',
    ].join('\n');
  });

  const taken = new Set<string>([...enums, ...inputs]);
  for (const name of fragmentTypes.values()) {
    if (taken.has(name)) throw new Error(`fragment type ${name} collides with a schema enum or input of that name`);
    taken.add(name);
  }

  return [
    '// Generated from schema.graphql, fragments.graphql and operations/*.graphql by',
    '// test/client/helpers/codegen.ts. Do not edit by hand; after changing a document run:',
    '//   npm run gen:client',
    '',
    ...sharedImports,
    '',
    '/** An ISO-8601 date-time string, as Stigg sends it. */',
    'export type DateTime = string;',
    '/** Inputs also accept a Date (it is sent as its ISO-8601 string). */',
    'export type DateTimeInput = string | Date;',
    '/** The JSON scalar (additionalMetaData, dimensions): passed through as is. */',
    'export type JsonObject = { [key: string]: unknown };',
    'type SameUnion<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;',
    '/** The literal members of a string union, without an open `string` or `string & {}` member. */',
    'type KnownValues<T> = T extends string ? (string extends T ? never : T) : never;',
    'type Expect<T extends true> = T;',
    '',
    '// ---------------------------------------------------------------- enums',
    '',
    enumBlocks.join('\n\n'),
    '',
    '// ---------------------------------------------------------------- inputs',
    '',
    inputBlocks.join('\n\n'),
    '',
    '// ---------------------------------------------------------------- results (fragments.graphql)',
    '',
    fragmentBlocks.join('\n\n'),
    '',
    '// ---------------------------------------------------------------- operations (operations/*.graphql)',
    '',
    '/** Every document in operations/, keyed by file name (= StiggClient method name). */',
    'export interface Operations {',
    operationBlocks.join('\n'),
    '}',
    '',
  ].join('\n');
}

import * as sdk from '@stigg/api-client-js/src/generated/sdk';
import {
  Kind,
  OperationTypeNode,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  typeFromAST,
  validate,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { startEmulator, type Emulator } from '../../src/emulator';
import { loadSchema, modelledRootFields, rootFields } from '../../src/emulator/schema';
import { EmulatorState, defaultCatalog } from '../../src/emulator';
import { print } from 'graphql';

/** The 60 operation documents of Stigg's official JS client (@stigg/api-client-js 3.108.0). */
const documents: Array<{ name: string; document: DocumentNode; operation: OperationDefinitionNode }> = Object.entries(sdk)
  .filter(([key, value]) => key.endsWith('Document') && typeof value === 'object' && value !== null && 'definitions' in value)
  .map(([, value]) => value as unknown as DocumentNode)
  .flatMap((document) => {
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    return operation === undefined ? [] : [{ name: operation.name?.value ?? '?', document, operation }];
  });

/** A minimal valid value of an input type: required fields only, first enum value. */
function sample(schema: GraphQLSchema, type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(schema, type.ofType);
  if (isListType(type)) return [sample(schema, type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]?.value;
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) if (isNonNullType(field.type)) value[field.name] = sample(schema, field.type);
    return value;
  }
  if (isScalarType(type))
    return { Float: 1, Int: 1, Boolean: false, DateTime: '2026-01-01T00:00:00.000Z', JSON: {} }[type.name] ?? 'sample';
  return null;
}

function rootFieldOf(operation: OperationDefinitionNode): string {
  const field = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
  return field?.kind === Kind.FIELD ? field.name.value : '?';
}

describe("Stigg's official client documents against the emulator", () => {
  const schema = loadSchema();
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator.stop());

  it('the official client has 60 operation documents', () => {
    expect(documents).toHaveLength(60);
  });

  it.each(documents.map((d) => [d.name, d.document] as const))('%s validates against the served schema', (_name, document) => {
    expect(validate(schema, document).map((e) => e.message)).toEqual([]);
  });

  it.each(documents.filter((d) => d.operation.operation !== OperationTypeNode.SUBSCRIPTION).map((d) => [d.name, d] as const))(
    '%s answers with data or a coded GraphQL error, never a crash',
    async (_name, { document, operation }) => {
      const variables: Record<string, unknown> = {};
      for (const definition of operation.variableDefinitions ?? []) {
        const type = typeFromAST(schema, definition.type as never) as GraphQLInputType | undefined;
        if (type !== undefined && isNonNullType(type)) variables[definition.variable.name.value] = sample(schema, type);
      }
      const res = await fetch(emulator.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': emulator.apiKey,
          'x-graphql-operation-name': operation.name?.value ?? '',
        },
        body: JSON.stringify({ query: print(document), variables, operationName: operation.name?.value }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        data?: unknown;
        errors?: Array<{ message: string; extensions?: { code?: string } }>;
      };
      const codes = (body.errors ?? []).map((e) => e.extensions?.code);
      expect(codes).not.toContain('INTERNAL_SERVER_ERROR');
      const field = rootFieldOf(operation);
      if (
        field in modelledRootFields(new EmulatorState(defaultCatalog, { now: Date.now, set: () => undefined, advance: () => undefined }))
      ) {
        expect(codes).not.toContain('NOT_MODELLED');
      } else {
        expect(body.errors).toEqual([
          expect.objectContaining({
            message: `${operation.name?.value} (${field}): the Stigg emulator does not model ${field}; see docs/emulator.md for what it models.`,
            extensions: expect.objectContaining({ code: 'NOT_MODELLED' }),
          }),
        ]);
      }
    },
  );

  it('answers a GraphQL subscription sent over HTTP with NOT_MODELLED (no realtime updates; webhooks instead)', async () => {
    const res = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
      body: JSON.stringify({ query: print(sdk.OnEntitlementsUpdatedDocument as unknown as DocumentNode) }),
    });
    const body = (await res.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
    expect(body.errors?.[0]?.extensions?.code).toBe('NOT_MODELLED');
    expect(body.errors?.[0]?.message).toMatch(/OnEntitlementsUpdated \(entitlementsUpdated\): .*webhooks/);
  });

  it('every root field of the schema has a resolver: modelled, or NOT_MODELLED', () => {
    // The 60 root fields the official client shows, and the two of direct credit consumption taken from
    // Stigg's GraphQL reference pages (schema.graphql's hand-made additions).
    expect(rootFields(schema).length).toBe(62);
    expect(rootFields(schema)).toEqual(expect.arrayContaining(['consumeCredits', 'consumeCreditsAsync']));
  });
});

#!/usr/bin/env node
// Re-derives what Stigg's official generated client (@stigg/api-client-js, pinned in devDependencies)
// shows of Stigg's schema and compares it with src/client/schema.graphql:
// - every enum of sdk.d.ts, value by value;
// - every input type of sdk.d.ts, field by field with its GraphQL type (nullability and lists included);
// - every root field and argument the 60 documents of sdk.js use, and every document validates.
// Prints each drift and exits 1 when there is any. On a new Stigg release: bump the package, run
// `npm run schema:check`, fix schema.graphql until it passes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { buildSchema, isEnumType, isInputObjectType, validate, visit, TypeInfo, visitWithTypeInfo } = require('graphql');

const root = path.resolve(__dirname, '..');
const DEFAULT_SCHEMA = path.join(root, 'src', 'client', 'schema.graphql');
const PACKAGE = '@stigg/api-client-js';

/** Fields schema.graphql carries on purpose although the pinned package predates them (see its header). */
const HAND_MADE = new Set(['ReportUsageInput.idempotencyKey', 'ReportUsageBaseInput.idempotencyKey']);

/** Declarations of sdk.d.ts that are codegen helpers, not schema types. */
const HELPERS = new Set(['Maybe', 'InputMaybe', 'Exact', 'MakeOptional', 'MakeMaybe', 'Scalars', 'SdkFunctionWrapper', 'Sdk']);

function officialDir() {
  const main = require.resolve(`${PACKAGE}/package.json`, { paths: [root] });
  return path.join(path.dirname(main), 'src', 'generated');
}

/** `Scalars['String']`, `InputMaybe<Array<Foo>>` … as a GraphQL type string (`String!`, `[Foo!]`). */
function toGraphQLType(expression) {
  const text = expression.trim();
  const maybe = /^InputMaybe<(.*)>$/s.exec(text) || /^Maybe<(.*)>$/s.exec(text);
  if (maybe) return toGraphQLType(maybe[1]).replace(/!$/, '');
  const list = /^Array<(.*)>$/s.exec(text);
  if (list) return `[${toGraphQLType(list[1])}]!`;
  const scalar = /^Scalars\['(\w+)'\](?:\['input'\])?$/.exec(text);
  if (scalar) return `${scalar[1]}!`;
  if (/^\w+$/.test(text)) return `${text}!`;
  throw new Error(`unreadable type in sdk.d.ts: ${text}`);
}

/** Enums and input types as sdk.d.ts declares them. */
function readDeclarations(source) {
  const enums = new Map();
  const inputs = new Map();
  const enumPattern = /export declare enum (\w+) \{([^}]*)\}/g;
  for (let match = enumPattern.exec(source); match; match = enumPattern.exec(source)) {
    const values = [...match[2].matchAll(/^\s*\w+ = "([^"]+)",?$/gm)].map((value) => value[1]);
    enums.set(match[1], values);
  }
  const typePattern = /^export declare type (\w+) = \{\n([\s\S]*?)\n\};$/gm;
  for (let match = typePattern.exec(source); match; match = typePattern.exec(source)) {
    const [, name, body] = match;
    if (HELPERS.has(name) || name.endsWith('Variables') || body.includes('__typename')) continue;
    const fields = new Map();
    for (const line of body.split('\n')) {
      const field = /^ {4}(\w+)(\??): (.*);$/.exec(line);
      if (field) fields.set(field[1], toGraphQLType(field[3]));
    }
    inputs.set(name, fields);
  }
  return { enums, inputs };
}

/** Root fields (with the arguments passed) of each official document. */
function rootUsage(schema, documents) {
  const used = [];
  for (const [name, document] of documents) {
    const info = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(info, {
        OperationDefinition(operation) {
          for (const selection of operation.selectionSet.selections) {
            if (selection.kind !== 'Field') continue;
            used.push({
              document: name,
              operation: operation.operation,
              field: selection.name.value,
              args: (selection.arguments || []).map((a) => a.name.value),
            });
          }
        },
      }),
    );
  }
  return used;
}

function rootType(schema, operation) {
  if (operation === 'query') return schema.getQueryType();
  if (operation === 'mutation') return schema.getMutationType();
  return schema.getSubscriptionType();
}

/**
 * Compares a schema (SDL text) with the official package. Returns the drift (each a sentence naming
 * the type, field or document) and what was compared.
 */
function checkSchema(schemaSource = fs.readFileSync(DEFAULT_SCHEMA, 'utf8'), dir = officialDir()) {
  const drift = [];
  const schema = buildSchema(schemaSource);
  const { enums, inputs } = readDeclarations(fs.readFileSync(path.join(dir, 'sdk.d.ts'), 'utf8'));

  for (const [name, values] of enums) {
    const type = schema.getType(name);
    if (!isEnumType(type)) {
      drift.push(`enum ${name}: missing from schema.graphql (values ${values.join(', ')})`);
      continue;
    }
    const ours = type.getValues().map((value) => value.name);
    for (const value of values) if (!ours.includes(value)) drift.push(`enum ${name}: value ${value} missing`);
    for (const value of ours) if (!values.includes(value)) drift.push(`enum ${name}: value ${value} is not in ${PACKAGE}`);
  }

  for (const [name, fields] of inputs) {
    const type = schema.getType(name);
    if (!isInputObjectType(type)) {
      drift.push(`input ${name}: missing from schema.graphql`);
      continue;
    }
    const ours = type.getFields();
    for (const [field, expected] of fields) {
      const actual = ours[field];
      if (!actual) drift.push(`input ${name}.${field}: missing (${expected})`);
      else if (String(actual.type) !== expected)
        drift.push(`input ${name}.${field}: ${String(actual.type)} in schema.graphql, ${expected} in ${PACKAGE}`);
    }
    for (const field of Object.keys(ours)) {
      if (!fields.has(field) && !HAND_MADE.has(`${name}.${field}`)) drift.push(`input ${name}.${field}: not in ${PACKAGE}`);
    }
  }
  for (const key of HAND_MADE) {
    const [name, field] = key.split('.');
    const type = schema.getType(name);
    if (!isInputObjectType(type) || !type.getFields()[field]) drift.push(`input ${key}: the hand-made addition is missing`);
  }

  const sdk = require(path.join(dir, 'sdk.js'));
  const documents = Object.keys(sdk)
    .filter((key) => key.endsWith('Document'))
    .map((key) => [key.slice(0, -'Document'.length), sdk[key]]);
  for (const use of rootUsage(schema, documents)) {
    const parent = rootType(schema, use.operation);
    const field = parent && parent.getFields()[use.field];
    if (!field) {
      drift.push(`${use.operation} field ${use.field} (document ${use.document}): missing`);
      continue;
    }
    for (const arg of use.args) {
      if (!field.args.some((a) => a.name === arg))
        drift.push(`${use.operation} field ${use.field}(${arg}:) (document ${use.document}): argument missing`);
    }
  }
  for (const [name, document] of documents) {
    for (const error of validate(schema, document)) drift.push(`document ${name}: ${error.message}`);
  }

  const beyond = Object.values(schema.getTypeMap())
    .filter(
      (type) =>
        !type.name.startsWith('__') && ((isEnumType(type) && !enums.has(type.name)) || (isInputObjectType(type) && !inputs.has(type.name))),
    )
    .map((type) => type.name);
  return { drift, beyond, compared: { enums: enums.size, inputs: inputs.size, documents: documents.length } };
}

module.exports = { checkSchema, readDeclarations, toGraphQLType, HAND_MADE };

if (require.main === module) {
  const schemaPath = process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_SCHEMA;
  const version = require(require.resolve(`${PACKAGE}/package.json`, { paths: [root] })).version;
  const { drift, beyond, compared } = checkSchema(fs.readFileSync(schemaPath, 'utf8'));
  const what = `${compared.enums} enums, ${compared.inputs} input types, ${compared.documents} documents of ${PACKAGE} ${version}`;
  if (drift.length === 0) {
    console.log(`schema:check: ${path.relative(process.cwd(), schemaPath)} matches ${what}.`);
    if (beyond.length > 0)
      console.log(`  Also in schema.graphql, from older versions or the Go models (not checked): ${beyond.join(', ')}.`);
  } else {
    console.error(`schema:check: ${drift.length} difference(s) between ${path.relative(process.cwd(), schemaPath)} and ${what}:`);
    for (const line of drift) console.error(`  - ${line}`);
    process.exitCode = 1;
  }
}

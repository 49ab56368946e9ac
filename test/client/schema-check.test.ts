import fs from 'node:fs';
import path from 'node:path';
import { checkSchema, toGraphQLType } from '../../scripts/schema-check';

const schemaFile = path.resolve(__dirname, '../../src/client/schema.graphql');
const source = fs.readFileSync(schemaFile, 'utf8');

describe('npm run schema:check (schema.graphql against @stigg/api-client-js)', () => {
  it('finds no drift: every enum value, input field, root field and argument, and all 60 official documents validate', () => {
    const result = checkSchema(source);
    expect(result.drift).toEqual([]);
    expect(result.compared.documents).toBe(60);
    expect(result.compared.enums).toBeGreaterThan(100);
    expect(result.compared.inputs).toBeGreaterThan(300);
  });

  it('says where the provenance is and marks the hand-made addition', () => {
    const header = source
      .split('\n')
      .filter((line) => line.startsWith('#'))
      .join('\n');
    expect(header).toMatch(/@stigg\/api-client-js 3\.108\.0/);
    expect(header).toMatch(/HAND-MADE ADDITIONS.*\n.*idempotencyKey.*ReportUsageInput and ReportUsageBaseInput/);
    expect(header).toMatch(/consumeCredits \/ consumeCreditsAsync.*\n.*\n.*docs\.stigg\.io\/graphql-reference/);
  });

  it('reports a missing or extra enum value, a changed input field, a renamed argument and an unknown field', () => {
    const tampered = source
      .replace(/^ {2}Revoked$/m, '  Withdrawn')
      .replace(/(input ReportUsageInput \{[\s\S]*?\n {2}customerId: )String!/, '$1Int')
      .replace('provisionSubscriptionV2(input:', 'provisionSubscriptionV2(subscription:')
      .replace(/(type Coupon \{[\s\S]*?\n {2})percentOff:/, '$1percentage:');
    const { drift } = checkSchema(tampered);
    expect(drift).toEqual(
      expect.arrayContaining([
        'enum AccessDeniedReason: value Revoked missing',
        'enum AccessDeniedReason: value Withdrawn is not in @stigg/api-client-js',
        'input ReportUsageInput.customerId: Int in schema.graphql, String! in @stigg/api-client-js',
        'mutation field provisionSubscriptionV2(input:) (document ProvisionSubscription): argument missing',
        expect.stringMatching(/^document GetCoupons: Cannot query field "percentOff" on type "Coupon"/),
      ]),
    );
  });

  it('reports a lost hand-made addition', () => {
    const tampered = source.replace(/(input ReportUsageInput \{\n)[^\n]*\n {2}idempotencyKey: String\n\n/, '$1');
    expect(checkSchema(tampered).drift).toContain('input ReportUsageInput.idempotencyKey: the hand-made addition is missing');
  });

  it('reads the codegen type notation of sdk.d.ts', () => {
    expect(toGraphQLType("Scalars['String']")).toBe('String!');
    expect(toGraphQLType("InputMaybe<Scalars['Float']>")).toBe('Float');
    expect(toGraphQLType('Array<UsageEventReportInput>')).toBe('[UsageEventReportInput!]!');
    expect(toGraphQLType('InputMaybe<Array<InputMaybe<Foo>>>')).toBe('[Foo]');
  });
});

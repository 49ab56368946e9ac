export interface SchemaCheckResult {
  /** One sentence per difference, naming the enum value, input field, root field or document. */
  drift: string[];
  /** Enums and input types of schema.graphql the package does not show (older versions, Go models). */
  beyond: string[];
  compared: { enums: number; inputs: number; documents: number };
}
export function checkSchema(schemaSource?: string, officialDir?: string): SchemaCheckResult;
export function toGraphQLType(expression: string): string;
export const HAND_MADE: ReadonlySet<string>;

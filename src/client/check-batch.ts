import type { LoadedOperation } from './documents';
import type { EntitlementCheckRequested } from './types';

/** Checks one batched document carries at most (a body of ~300 bytes a check stays far below Stigg's limits). */
export const MAX_CHECKS_PER_CALL = 200;

const ALIAS = 'check';
const documents = new Map<number, LoadedOperation>();

/**
 * Stigg's `reportEntitlementCheckRequested` takes one check per field, so n checks go as one
 * document of n aliased fields (`check0: reportEntitlementCheckRequested(…)`), each with its own
 * variable: one HTTP call, and Stigg applies each field as the single mutation it is. The document
 * of each size is built once and kept (sizes are bounded by MAX_CHECKS_PER_CALL).
 */
export function checkBatchOperation(size: number): LoadedOperation {
  let operation = documents.get(size);
  if (operation !== undefined) return operation;
  const variables: string[] = [];
  const fields: string[] = [];
  for (let i = 0; i < size; i += 1) {
    variables.push(`$${ALIAS}${i}: EntitlementCheckRequested!`);
    fields.push(`  ${ALIAS}${i}: reportEntitlementCheckRequested(entitlementCheckRequested: $${ALIAS}${i})`);
  }
  operation = {
    name: 'reportEntitlementCheckRequested',
    operationName: 'ReportEntitlementChecks',
    kind: 'mutation',
    rootField: `${ALIAS}0`,
    query: `mutation ReportEntitlementChecks(${variables.join(', ')}) {\n${fields.join('\n')}\n}`,
  };
  documents.set(size, operation);
  return operation;
}

/** The variables of checkBatchOperation(checks.length): `check0` … `checkN`. */
export function checkBatchVariables(checks: readonly EntitlementCheckRequested[]): Record<string, EntitlementCheckRequested> {
  const variables: Record<string, EntitlementCheckRequested> = {};
  checks.forEach((check, i) => {
    variables[`${ALIAS}${i}`] = check;
  });
  return variables;
}

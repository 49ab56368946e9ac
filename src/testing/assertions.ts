import { StiggGateError } from '../core';
import { describeValue } from '../util/describe-value';
import { isPlainObject } from '../util/plain-object';
import { rejectUnknownOptions } from '../util/unknown-options';
import type { ReportedUsage } from './recording-store';

/** What expectReported() looks for: the reports of one customer's feature (and resource), and their total. */
export interface ExpectedReport {
  customerId: string;
  featureId: string;
  /** Only reports for this resource; omitted: reports without a resource. */
  resourceId?: string;
  /** The total of the matching DELTA reports (the last SET, when there is one, plus the DELTAs after it). Omitted: at least one report. */
  value?: number;
}

/**
 * An assertion failure any test runner shows as one: jest, vitest and node:test print the message,
 * and the runners that diff `expected` and `actual` do so.
 */
export class UsageAssertionError extends StiggGateError {
  override readonly name = 'AssertionError';
  readonly errorCode: string = 'ERR_STIGG_GATE_USAGE_ASSERTION';
  readonly code = 'ERR_ASSERTION';
  constructor(
    message: string,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super(message);
  }
}

const KEYS = ['customerId', 'featureId', 'resourceId', 'value'];

function line(report: ReportedUsage): string {
  const resource = report.resourceId === undefined ? '' : ` resource ${JSON.stringify(report.resourceId)}`;
  const value = report.updateBehavior === 'SET' ? `set to ${report.value}` : `+${report.value}`;
  return `  ${JSON.stringify(report.customerId)} ${JSON.stringify(report.featureId)}${resource}: ${value}`;
}

/** The usage the matching reports add up to: the last SET (if any) plus the DELTAs after it. */
export function totalOf(reports: readonly ReportedUsage[]): number {
  let total = 0;
  for (const report of reports) total = report.updateBehavior === 'SET' ? report.value : total + report.value;
  return total;
}

export function checkExpectation(expected: unknown): ExpectedReport {
  if (!isPlainObject(expected)) {
    throw new TypeError(`expectReported() takes { customerId, featureId, value?, resourceId? }; got ${describeValue(expected)}.`);
  }
  rejectUnknownOptions(expected, KEYS, 'expectReported()');
  for (const name of ['customerId', 'featureId'] as const) {
    if (typeof expected[name] !== 'string')
      throw new TypeError(`expectReported() needs ${name} (a string); got ${describeValue(expected[name])}.`);
  }
  const value = expected['value'];
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
    throw new TypeError(
      `${describeValue(value)} is not a valid value for expectReported() value. Please pass a finite number, or omit it.`,
    );
  }
  return expected as unknown as ExpectedReport;
}

/** Throws UsageAssertionError, listing every report, unless the matching reports add up to `expected.value`. */
export function expectReported(reports: readonly ReportedUsage[], expected: ExpectedReport): void {
  const matching = reports.filter(
    (report) =>
      report.customerId === expected.customerId && report.featureId === expected.featureId && report.resourceId === expected.resourceId,
  );
  const total = totalOf(matching);
  const want = expected.value;
  if (matching.length > 0 && (want === undefined || total === want)) return;
  const what = `${JSON.stringify(expected.featureId)} of ${JSON.stringify(expected.customerId)}${
    expected.resourceId === undefined ? '' : ` (resource ${JSON.stringify(expected.resourceId)})`
  }`;
  const head =
    matching.length === 0
      ? `Expected usage of ${what} to be reported${want === undefined ? '' : ` (${want})`}, but none was.`
      : `Expected the usage reported for ${what} to total ${want}, but it totals ${total}.`;
  const all = reports.length === 0 ? '  (none)' : reports.map(line).join('\n');
  const expectedValue = want ?? 'some usage';
  const actual = want === undefined ? 'no report' : total;
  throw new UsageAssertionError(`${head}\n\nReported so far:\n${all}`, expectedValue, actual);
}

import fs from 'node:fs';
import path from 'node:path';
import { entries } from '../../scripts/entries';
import { StiggGateError } from '../../src/core/stigg-gate-error';
import * as root from 'stigg-gate';
import { CatalogError, EmulatorError } from 'stigg-gate/emulator';
import { RedisDataLostError, RedisStoreError } from 'stigg-gate/redis';
import { UsageAssertionError } from 'stigg-gate/testing';
import { EntitlementProblemException } from 'stigg-gate/nest';
import { HeldCommitsFullError } from '../../src/core/stranded';
import { CustomerRateLimitedError } from '../../src/core/upstream-reads';
import { BodyAbortedError, BodyTimeoutError, BodyTooLargeError } from '../../src/webhook/limits';
import { MalformedWebhookError } from '../../src/webhook/event';
import type { Decision } from 'stigg-gate';
import { HttpException } from '@nestjs/common';

/*
 * Every error the package throws or hands to the app extends StiggGateError and has its own stable
 * errorCode, listed in docs/errors.md with when it happens and what to do. A new error class fails
 * here until it has a code, an instance below and a row in the docs; a code used twice or a row
 * missing fails too. Process warnings: every code the sources emit has a row in the warnings table.
 */

const repo = path.resolve(__dirname, '..', '..');
const docs = fs.readFileSync(path.join(repo, 'docs', 'errors.md'), 'utf8');

/** One instance of every error class in src/ (exported or not), built as the package builds it. */
const instances: Record<string, () => Error> = {
  StiggError: () => new root.StiggError('m', { operation: 'getEntitlement', transient: false }),
  StiggAuthError: () => new root.StiggAuthError('getEntitlement', 401),
  StiggGraphQLError: () => new root.StiggGraphQLError('getEntitlement', 200, [{ message: 'x', extensions: { code: 'CustomerNotFound' } }]),
  StiggTimeoutError: () => new root.StiggTimeoutError('getEntitlement', 1000),
  StiggNetworkError: () => new root.StiggNetworkError('getEntitlement', 'ECONNREFUSED', false),
  StiggHttpError: () => new root.StiggHttpError('getEntitlement', 503, undefined),
  EntitlementDeniedError: () =>
    new root.EntitlementDeniedError({ featureId: 'f', accessDeniedReason: 'Revoked', requestedUsage: 1 } as unknown as Decision),
  EntitlementUnavailableError: () => new root.EntitlementUnavailableError('f', 5),
  EntitlementsClosedError: () => new root.EntitlementsClosedError('check()'),
  MissingCustomerError: () => new root.MissingCustomerError('f', 'Service.method', false),
  InvalidUsageError: () => new root.InvalidUsageError('f', 'Service.method', -1, 'a finite number >= 0'),
  InvalidIdError: () => new root.InvalidIdError('customerId', 'must not be blank'),
  NotReadyError: () => new root.NotReadyError('auth', undefined),
  CircuitOpenError: () => new root.CircuitOpenError(100),
  OutboxFullError: () => new root.OutboxFullError(10),
  HeldCommitsFullError: () => new HeldCommitsFullError(10),
  CustomerRateLimitedError: () => new CustomerRateLimitedError('c1', 1000),
  RedisStoreError: () => new RedisStoreError('reserve', 'timed out'),
  RedisDataLostError: () => new RedisDataLostError('marker'),
  BodyTooLargeError: () => new BodyTooLargeError(10),
  BodyTimeoutError: () => new BodyTimeoutError(10),
  BodyAbortedError: () => new BodyAbortedError(),
  MalformedWebhookError: () => new MalformedWebhookError('data.id must be a string'),
  EmulatorError: () => new EmulatorError('CustomerNotFound', 'no such customer'),
  CatalogError: () => new CatalogError('plans[0].id', 'must be a string'),
  UsageAssertionError: () => new UsageAssertionError('expected 1 report', 1, 0),
  EntitlementProblemException: () =>
    new EntitlementProblemException({ type: 'about:blank', title: 'Payment Required', status: 402, detail: 'd' }),
};

/** The error classes each entry point exports (any export whose prototype is an Error's). */
function exportedErrorClasses(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const entry of entries) {
    const name = entry.subpath === '.' ? 'stigg-gate' : `stigg-gate/${entry.subpath.slice(2)}`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- every entry point, by its package name
    const mod = require(name) as Record<string, unknown>;
    for (const [key, value] of Object.entries(mod)) {
      if (typeof value === 'function' && value.prototype instanceof Error) {
        if (!found.has(key)) found.set(key, new Set());
        found.get(key)!.add(name);
      }
    }
  }
  return found;
}

/** The rows of the docs table whose first column is a code matching `pattern`: code → the rest of the row. */
function documented(pattern: RegExp): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of docs.split('\n')) {
    const match = /^\| `([A-Z_]+)` \|(.*)$/.exec(line);
    if (match !== null && pattern.test(match[1]!)) rows.set(match[1]!, match[2]!);
  }
  return rows;
}

it('every error class the entry points export has an instance in this test (and StiggGateError is exported)', () => {
  const exported = exportedErrorClasses();
  expect(exported.get('StiggGateError')).toEqual(
    new Set(['stigg-gate', 'stigg-gate/express', 'stigg-gate/koa', 'stigg-gate/fastify', 'stigg-gate/hono']),
  );
  exported.delete('StiggGateError');
  const missing = [...exported.keys()].filter((name) => !(name in instances));
  expect(missing).toEqual([]);
});

it('every class declared `extends …Error` in src/ has an instance in this test', () => {
  const declared = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts')) {
        for (const match of fs.readFileSync(file, 'utf8').matchAll(/class (\w+) extends (\w+)/g)) {
          if (/(Error|Exception)$/.test(match[2]!) || match[2]! in instances) declared.add(match[1]!);
        }
      }
    }
  };
  walk(path.join(repo, 'src'));
  // FetchRejected wraps a rejected fetch inside the transport for one hop and never leaves it
  // (it becomes a StiggNetworkError); StiggGateError is the base.
  declared.delete('FetchRejected');
  declared.delete('StiggGateError');
  expect([...declared].sort()).toEqual(Object.keys(instances).sort());
});

describe.each(Object.entries(instances))('%s', (name, make) => {
  const error = make();

  it('is a StiggGateError with an ERR_STIGG_GATE_ code, documented in docs/errors.md', () => {
    expect(error).toBeInstanceOf(StiggGateError);
    expect(error).toBeInstanceOf(root.StiggGateError);
    const code = (error as StiggGateError).errorCode;
    expect(code).toMatch(/^ERR_STIGG_GATE_[A-Z_]+$/);
    const row = documented(/^ERR_/).get(code);
    expect(row).toBeDefined();
    expect(row!.split('|')[0]!.trim()).toMatch(new RegExp(`^\`${name}\``));
  });

  it('keeps its name and stays an Error', () => {
    expect(error).toBeInstanceOf(Error);
    if (name === 'EntitlementProblemException') expect(error).toBeInstanceOf(HttpException);
    expect(error.name).toBe(name === 'UsageAssertionError' ? 'AssertionError' : name);
  });
});

it('gives every class its own code, and the docs list no other', () => {
  const codes = Object.values(instances).map((make) => (make() as StiggGateError).errorCode);
  expect(new Set(codes).size).toBe(codes.length);
  expect([...documented(/^ERR_/).keys()].sort()).toEqual([...codes].sort());
});

it('keeps the built-in class the branded errors always extended, and instanceof stays exact below the base', () => {
  expect(instances.InvalidIdError!()).toBeInstanceOf(TypeError);
  expect(instances.CatalogError!()).toBeInstanceOf(TypeError);
  expect(instances.InvalidUsageError!()).toBeInstanceOf(RangeError);
  expect(instances.StiggAuthError!()).toBeInstanceOf(root.StiggError);
  expect(instances.StiggAuthError!()).not.toBeInstanceOf(root.StiggHttpError);
  expect(instances.InvalidIdError!()).not.toBeInstanceOf(root.EntitlementDeniedError);
  expect(new Error('plain')).not.toBeInstanceOf(StiggGateError);
  expect(new TypeError('plain')).not.toBeInstanceOf(StiggGateError);
  expect(null).not.toBeInstanceOf(StiggGateError);
});

it('documents every process warning code the sources emit, and no other', () => {
  const emitted = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts')) {
        const text = fs.readFileSync(file, 'utf8');
        // processWarning(message, 'CODE') and emitWarning(message, { …, code: 'CODE' })
        for (const match of text.matchAll(/processWarning\([\s\S]*?'(STIGG_GATE_[A-Z_]+)'\s*,?\s*\)/g)) emitted.add(match[1]!);
        for (const match of text.matchAll(/emitWarning\([^;]*?code: '(STIGG_GATE_[A-Z_]+)'/g)) emitted.add(match[1]!);
      }
    }
  };
  walk(path.join(repo, 'src'));
  expect(emitted.size).toBeGreaterThanOrEqual(7);
  expect([...documented(/^STIGG_GATE_/).keys()].sort()).toEqual([...emitted].sort());
});

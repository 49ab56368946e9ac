'use strict';
// `node bench/testing-kit.js` (after `npm run build`): what one app test written with stigg-gate/testing
// costs, steady state. Each "test" is what docs/testing.md shows: a fresh kit and Express app, three
// requests (201, 201, 402) sent with inject(), expectReported(), close(); a Nest controller test on an
// app built once per file; a decorated service called through withCustomer(). Sockets are counted.
// Each kind runs in a process of its own, as each would in its own test file (loading the decorators
// turns the request context on, which costs every await of the process a little).
const { execFileSync } = require('node:child_process');
const net = require('node:net');
const { performance } = require('node:perf_hooks');
const express = require('express');
const { createTestEntitlements, inject } = require('../dist/cjs/testing');
const { stigg, requireFeature, entitlementErrorHandler } = require('../dist/cjs/middleware/express');
const kind = process.argv[2];
if (kind !== 'express' && kind !== undefined) require('reflect-metadata');
const { RequireFeature, withCustomer } = kind !== 'express' && kind !== undefined ? require('../dist/cjs/decorators') : {};

let sockets = 0;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function counted(...args) {
  sockets += 1;
  return connect.apply(this, args);
};
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function counted(...args) {
  sockets += 1;
  return listen.apply(this, args);
};

const customers = { 'cust-basic': { 'feature-01-templates': { limit: 3, used: 1 }, 'feature-04-analytics': true } };
const headers = { 'x-customer': 'cust-basic' };

async function expressTest() {
  const entitlements = createTestEntitlements({ customers });
  const app = express();
  app.use(stigg({ entitlements, customer: (req) => req.header('x-customer') }));
  app.post('/templates', requireFeature('feature-01-templates', 1), (_req, res) => res.status(201).json({ created: true }));
  app.use(entitlementErrorHandler());
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await inject(app, { method: 'POST', url: '/templates', headers })).statusCode);
  if (statuses.join() !== '201,201,402') throw new Error(`unexpected ${statuses}`);
  entitlements.expectReported({ customerId: 'cust-basic', featureId: 'feature-01-templates', value: 2 });
  await entitlements.close();
}

/** TypeScript's legacy method decorators, by hand: applied bottom-up, each given and returning the descriptor. */
function decorate(proto, key, ...decorators) {
  let descriptor = Object.getOwnPropertyDescriptor(proto, key);
  for (const decorator of decorators.reverse()) descriptor = decorator(proto, key, descriptor) ?? descriptor;
  Object.defineProperty(proto, key, descriptor);
}

class ReportService {
  async monthly() {
    return { visits: 42 };
  }
}
if (RequireFeature !== undefined) decorate(ReportService.prototype, 'monthly', RequireFeature('feature-04-analytics'));

async function serviceTest() {
  const entitlements = createTestEntitlements({ customers });
  const service = new ReportService();
  const result = await withCustomer({ entitlements, customerId: 'cust-basic' }, () => service.monthly());
  if (result.visits !== 42 || entitlements.decisions().length !== 1) throw new Error('not gated');
  await entitlements.close();
}

async function nestSuite() {
  const { Controller, Module, Post } = require('@nestjs/common');
  const { Test } = require('@nestjs/testing');
  const { ExpressAdapter } = require('@nestjs/platform-express');
  const { StiggModule } = require('../dist/cjs/nest');
  class TemplatesController {
    async create() {
      return { created: true };
    }
  }
  decorate(TemplatesController.prototype, 'create', Post('templates'), RequireFeature('feature-01-templates', 1));
  Controller()(TemplatesController);
  const entitlements = createTestEntitlements({ customers: { 'cust-basic': { 'feature-01-templates': 'unlimited' } } });
  class AppModule {}
  Module({
    imports: [StiggModule.forRoot({ entitlements, customer: (ctx) => ctx.switchToHttp().getRequest().headers['x-customer'] })],
    controllers: [TemplatesController],
  })(AppModule);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
  await app.init();
  const instance = app.getHttpAdapter().getInstance();
  return {
    async test() {
      entitlements.clearRecords();
      const res = await inject(instance, { method: 'POST', url: '/templates', headers });
      if (res.statusCode !== 201) throw new Error(`unexpected ${res.statusCode}`);
      entitlements.expectReported({ customerId: 'cust-basic', featureId: 'feature-01-templates', value: 1 });
    },
    close: async () => {
      await app.close();
      await entitlements.close();
    },
  };
}

async function measure(name, test, runs = 300) {
  for (let i = 0; i < 50; i++) await test();
  const started = performance.now();
  for (let i = 0; i < runs; i++) await test();
  return { [name]: { msPerTest: Number(((performance.now() - started) / runs).toFixed(3)), runs } };
}

async function run() {
  let result;
  if (kind === 'express') result = await measure('express', expressTest);
  else if (kind === 'service') result = await measure('decoratedService', serviceTest);
  else {
    const nest = await nestSuite();
    result = await measure('nest', nest.test);
    await nest.close();
  }
  for (const entry of Object.values(result)) entry.socketsOpened = sockets;
  process.stdout.write(JSON.stringify(result));
}

function main() {
  if (kind !== undefined) return run();
  const summary = { node: process.version };
  for (const each of ['express', 'nest', 'service']) {
    Object.assign(summary, JSON.parse(execFileSync(process.execPath, [__filename, each], { encoding: 'utf8' })));
  }
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  return Promise.resolve();
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});

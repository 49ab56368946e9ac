import http from 'node:http';
import net from 'node:net';
import { settleOnResponse } from '../../src/middleware/settle';
import { silentLogger } from '../../src/core/maybe-promise';
import { FakeEntitlements } from './fake';
import { close, deferred, listen } from './harness';

// settleOnResponse is what every Node-response adapter (Express, Koa, Fastify) settles through; a
// response that closed before it was called must still give the reservation back (issue 12.8).

test('a response already closed when settleOnResponse is called releases the lease at once', async () => {
  const fake = new FakeEntitlements();
  const closed = deferred<http.ServerResponse>();
  const server = http.createServer((_req, res) => res.once('close', () => closed.resolve(res)));
  const base = new URL(await listen(server));
  try {
    const socket = net.connect(Number(base.port), base.hostname);
    socket.on('error', () => {});
    socket.write(`GET / HTTP/1.1\r\nHost: ${base.host}\r\n\r\n`);
    await new Promise((resolve) => server.once('request', resolve));
    socket.destroy();
    const res = await closed.promise;
    const lease = fake.lease({ customerId: 'c1', featureId: 'f', requestedUsage: 1 }, true);
    settleOnResponse(res, lease, (status) => status < 400, silentLogger);
    expect(fake.settled).toEqual([{ featureId: 'f', how: 'release' }]);
  } finally {
    await close(server);
  }
});

import { request } from 'node:http';
import { connect } from 'node:net';
import { startEmulator, type Emulator } from '../../src/emulator';

/**
 * DNS rebinding: a page at http://evil.example:PORT whose name the attacker re-points at 127.0.0.1
 * calls the emulator same-origin, so the browser sends no Origin on a GET, only its own Host. With
 * the well-known default key it read /stats and a customer's entitlements on a developer's laptop
 * (200 before the Host check). A loopback-bound emulator answers only loopback names.
 */
let emulator: Emulator;
let port: number;

beforeAll(async () => {
  emulator = await startEmulator();
  port = Number(new URL(emulator.url).port);
});
afterAll(async () => {
  await emulator.stop();
});

function get(path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { host, 'x-api-key': emulator.apiKey, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('emulator bound to loopback, a request naming another host (DNS rebinding)', () => {
  it.each([
    'evil.example:4000',
    'evil.example',
    '127.0.0.1.evil.example',
    'localhost.evil.example',
    'LOCALHOST.evil.example:1',
    '[::1].evil.example',
  ])('is refused with 403 before any work: Host %s', async (host) => {
    const stats = await get('/stats', host);
    expect(stats.status).toBe(403);
    const edge = await get('/v1/customers/c1/entitlements', host);
    expect(edge.status).toBe(403);
  });

  it('answers the loopback names a developer and the SDKs use', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LocalHost:${port}`,
      `[::1]:${port}`,
      'localhost',
      `app.localhost:${port}`,
    ]) {
      expect({ host, status: (await get('/stats', host)).status }).toEqual({ host, status: 200 });
    }
  });

  it('answers an HTTP/1.0 request without Host (curl --http1.0, old tools)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(`GET /stats HTTP/1.0\r\nx-api-key: ${emulator.apiKey}\r\n\r\n`));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(Number(text.split(' ')[1])));
      socket.on('error', reject);
    });
    expect(status).toBe(200);
  });
});

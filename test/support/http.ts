import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Passes a GraphQL call a stand-in server took on to `url` (the emulator) and its answer back; a failed call cuts the response. */
export function forwardTo(url: string, req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  void fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': String(req.headers['x-api-key']) },
    body,
  }).then(
    async (upstream) => res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()),
    () => res.destroy(),
  );
}

/** Listens on a free loopback port; resolves to the GraphQL address a client is given. */
export async function graphqlUrlOf(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}/graphql`;
}

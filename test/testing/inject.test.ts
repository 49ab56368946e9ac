import { inject } from 'stigg-gate/testing';

describe('inject(): one request to a Node handler, in memory', () => {
  it('sends method, url, headers and a JSON body, and reads a chunked answer', async () => {
    const res = await inject(
      (req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          res.setHeader('x-seen', `${req.method} ${req.url} ${String(req.headers['x-customer'])} ${req.headers['content-type']}`);
          res.write('{"echo":');
          res.end(`${body}}`);
        });
      },
      { method: 'PUT', url: '/x?y=1', headers: { 'X-Customer': 'c1' }, body: { a: 1 } },
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-seen']).toBe('PUT /x?y=1 c1 application/json');
    expect(res.json()).toEqual({ echo: { a: 1 } });
  });

  it('emits close after finish, as a server does', async () => {
    const events: string[] = [];
    await inject(
      (_req, res) => {
        res.on('finish', () => events.push('finish'));
        res.on('close', () => events.push(`close finished=${res.writableFinished}`));
        res.end();
      },
      { url: '/' },
    );
    expect(events).toEqual(['finish', 'close finished=true']);
  });

  it('refuses what is not a request handler', () => {
    expect(() => inject({}, { url: '/' })).toThrow('inject() takes a Node request handler');
  });
});

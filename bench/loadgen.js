'use strict';
// A small closed-loop HTTP/1.1 load generator over raw keep-alive sockets: cheaper per request than
// http.request, so the server under test (not the generator) is what gets measured. Runs in its own
// process; prints one JSON line { requests, errors, non2xx, seconds, rps, p50Us, p99Us }.
const net = require('node:net');

const [, , host, portArg, path, secondsArg, connectionsArg, headerArg, depthArg] = process.argv;
const port = Number(portArg);
const seconds = Number(secondsArg ?? 3);
const connections = Number(connectionsArg ?? 32);
const extraHeader = headerArg ? `${headerArg}\r\n` : '';
// Requests kept in flight per connection (HTTP/1.1 pipelining): the generator then spends far less
// per request than the server, so the server is what saturates.
const depth = Number(depthArg ?? 1);
const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n${extraHeader}Connection: keep-alive\r\n\r\n`);

const latencies = new Float64Array(4_000_000);
let count = 0;
let errors = 0;
let non2xx = 0;
let stopping = false;
let open = 0;
let measured = null;

function connect() {
  const socket = net.connect({ host, port, noDelay: true });
  open++;
  let buffered = '';
  const sentAt = [];
  function send() {
    if (stopping) {
      if (sentAt.length === 0) socket.end();
      return;
    }
    sentAt.push(process.hrtime.bigint());
    socket.write(request);
  }
  socket.setEncoding('latin1');
  socket.on('connect', () => {
    for (let i = 0; i < depth; i++) send();
  });
  socket.on('data', function onData(chunk) {
    buffered += chunk;
    for (;;) {
      const headerEnd = buffered.indexOf('\r\n\r\n');
      if (headerEnd === -1) return;
      const head = buffered.slice(0, headerEnd);
      const match = /content-length:\s*(\d+)/i.exec(head);
      const length = match ? Number(match[1]) : 0;
      if (buffered.length < headerEnd + 4 + length) return;
      const status = Number(head.slice(9, 12));
      if (status < 200 || status >= 300) non2xx++;
      const at = sentAt.shift();
      if (count < latencies.length && at !== undefined) latencies[count] = Number(process.hrtime.bigint() - at) / 1000;
      count++;
      buffered = buffered.slice(headerEnd + 4 + length);
      send();
    }
  });
  socket.on('error', () => {
    errors++;
  });
  socket.on('close', () => {
    open--;
    if (!stopping) connect();
    else if (open === 0) finish();
  });
}

const started = process.hrtime.bigint();
function finish() {
  const { requests, elapsed } = measured ?? { requests: count, elapsed: Number(process.hrtime.bigint() - started) / 1e9 };
  const sample = latencies.subarray(0, Math.min(requests, latencies.length)).sort();
  const pct = (p) => (sample.length ? sample[Math.min(sample.length - 1, Math.floor(sample.length * p))] : 0);
  process.stdout.write(
    JSON.stringify({
      requests,
      errors,
      non2xx,
      seconds: elapsed,
      rps: requests / elapsed,
      p50Us: Math.round(pct(0.5)),
      p99Us: Math.round(pct(0.99)),
    }) + '\n',
  );
  process.exit(0);
}

for (let i = 0; i < connections; i++) connect();
setTimeout(() => {
  measured = { requests: count, elapsed: Number(process.hrtime.bigint() - started) / 1e9 };
  stopping = true;
  setTimeout(finish, 2000).unref();
}, seconds * 1000);

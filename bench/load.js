'use strict';
// What the HTTP benchmarks (bench/http.js, bench/nest.js) share: the load settings and one load run.
const { spawn } = require('node:child_process');
const path = require('node:path');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PIPELINE = Number(process.env.BENCH_PIPELINE ?? 8);
const CUSTOMER = 'bench-customer';

function runLoad(port, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(__dirname, 'loadgen.js'),
        '127.0.0.1',
        String(port),
        '/r',
        String(seconds),
        String(CONNECTIONS),
        `x-customer: ${CUSTOMER}`,
        String(PIPELINE),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`loadgen exited with ${code}`))));
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

module.exports = { ROUNDS, SECONDS, CONNECTIONS, PIPELINE, CUSTOMER, runLoad, median };

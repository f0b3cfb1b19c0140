'use strict';
// `make bench` (scripts/bench-apps.sh): requests per second of a Node HTTP
// server that reads req.socket.remoteAddress on every request (getpeername
// the first time on each connection; Node keeps the answer), with a client
// in the same process.
//   node http_bench.js keepalive|connect REQUESTS CONCURRENCY
// keepalive: CONCURRENCY kept-alive connections; connect: a new connection
// per request. Prints one JSON object: {"mode", "requests", "seconds", "rps",
// "cpu_us_per_request"}: the last is this process's own CPU time (user +
// system, process.cpuUsage) over the timed requests, per request, which
// other programs on a shared machine disturb much less than wall time.
// The first tenth of the requests warms up and is not timed.
const http = require('http');

const mode = process.argv[2];
const REQUESTS = Number(process.argv[3] || 2000);
const CONCURRENCY = Number(process.argv[4] || 4);
if (mode !== 'keepalive' && mode !== 'connect') {
  process.stderr.write('usage: http_bench.js keepalive|connect REQUESTS CONCURRENCY\n');
  process.exit(2);
}

let peersSeen = 0;
const server = http.createServer((req, res) => {
  if (req.socket.remoteAddress === '127.0.0.1') peersSeen++;
  res.end('ok');
});

function get(agent, port) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent,
      headers: mode === 'connect' ? { Connection: 'close' } : {} }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function batch(agent, port, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await get(agent, port);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  const agent = new http.Agent({ keepAlive: mode === 'keepalive', maxSockets: CONCURRENCY });
  try {
    const warm = Math.max(1, Math.floor(REQUESTS / 10));
    await batch(agent, port, warm);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await batch(agent, port, REQUESTS);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    agent.destroy();
    server.close();
    if (peersSeen !== warm + REQUESTS) throw new Error(`the server saw the right peer ${peersSeen} times of ${warm + REQUESTS}`);
    process.stdout.write(JSON.stringify({ mode, requests: REQUESTS, seconds, rps: REQUESTS / seconds,
      cpu_us_per_request: (cpu.user + cpu.system) / REQUESTS }) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ mode, error: String(err) }) + '\n');
    process.exitCode = 1;
  }
});

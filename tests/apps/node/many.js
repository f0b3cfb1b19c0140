'use strict';
// Many connections at once, then churn: CONCURRENT clients connected to one
// server at the same time, each side checking the other's address and port
// (the server tells each client the peer it saw, the client compares it with
// its own local port); then ROUNDS rounds of BATCH connections that connect,
// exchange, check and close. IPv4 for the concurrent set, both families for
// the churn. Counts come from argv: node many.js [CONCURRENT [ROUNDS [BATCH]]].
const net = require('net');
const { out, run, once, families } = require('./common.js');

const CONCURRENT = Number(process.argv[2] || 1000);
const ROUNDS = Number(process.argv[3] || 20);
const BATCH = Number(process.argv[4] || 50);

async function listen(f) {
  let serverChecked = 0;
  const server = net.createServer((conn) => {
    // What the server sees, sent to the client to compare with itself.
    const seen = `${conn.remoteAddress} ${conn.remotePort} ${conn.remoteFamily}`;
    conn.setEncoding('utf8');
    conn.once('data', (d) => {
      if (d === `${conn.remotePort}`) serverChecked++;
      conn.write(seen);
    });
    conn.on('error', () => {});
    conn.on('end', () => conn.end());
  });
  server.listen({ port: 0, host: f.host, backlog: 2048 });
  await once(server, 'listening');
  return { server, checked: () => serverChecked };
}

// Connects, tells the server its own local port, checks what the server saw
// and its own remote end; resolves true when everything matched. Leaves the
// connection open.
async function connectAndCheck(f, serverPort) {
  const c = net.connect({ host: f.host, port: serverPort });
  c.setEncoding('utf8');
  await once(c, 'connect');
  const selfOk = c.remoteAddress === f.host && c.remotePort === serverPort && c.remoteFamily === f.name;
  c.write(`${c.localPort}`);
  const [seen] = await once(c, 'data');
  return { c, ok: selfOk && seen === `${f.host} ${c.localPort} ${f.name}` };
}

async function close(c) {
  c.end();
  await once(c, 'close');
}

async function concurrent(f) {
  const { server, checked } = await listen(f);
  const serverPort = server.address().port;
  const results = await Promise.all(Array.from({ length: CONCURRENT }, () => connectAndCheck(f, serverPort)));
  let open = 0;
  await new Promise((resolve) => server.getConnections((e, n) => { open = n; resolve(); }));
  out(`${f.name} ${CONCURRENT} concurrent: ${results.filter((r) => r.ok).length} clients saw the right peers, server saw ${checked()} right, ${open} open at once`);
  await Promise.all(results.map((r) => close(r.c)));
  server.close();
  await once(server, 'close');
}

async function churn(f) {
  const { server, checked } = await listen(f);
  const serverPort = server.address().port;
  let ok = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const batch = await Promise.all(Array.from({ length: BATCH }, () => connectAndCheck(f, serverPort)));
    ok += batch.filter((r) => r.ok).length;
    await Promise.all(batch.map((r) => close(r.c)));
  }
  out(`${f.name} churn ${ROUNDS} x ${BATCH}: ${ok} clients saw the right peers, server saw ${checked()} right`);
  server.close();
  await once(server, 'close');
}

run(async () => {
  await concurrent(families[0]);
  for (const f of families) await churn(f);
});

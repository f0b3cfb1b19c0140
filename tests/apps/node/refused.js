'use strict';
// A connection refused: a port that was listening a moment ago and is now
// closed, over IPv4 and IPv6. The error names the address and port; the
// socket never gets a peer. Then a connection that succeeds, to show that
// the refusal left nothing behind that answers for the next socket.
const net = require('net');
const { port, section, out, run, once, families } = require('./common.js');

async function refused(f) {
  section();
  const server = net.createServer();
  server.listen(0, f.host);
  await once(server, 'listening');
  const closedPort = server.address().port;
  server.close();
  await once(server, 'close');
  out(`${f.name} port ${port(closedPort)} closed`);

  const client = net.connect({ host: f.host, port: closedPort });
  const err = await new Promise((resolve) => {
    client.once('connect', () => resolve(new Error('connected to a closed port')));
    client.once('error', resolve);
  });
  out(`${f.name} error ${err.code} ${err.syscall} ${err.address} ${port(err.port)}`);
  out(`${f.name} remoteAddress after refusal: ${client.remoteAddress}`);
  await once(client, 'close');
}

async function accepted(f) {
  section();
  const server = net.createServer();
  server.listen(0, f.host);
  await once(server, 'listening');
  const conn = once(server, 'connection');
  const client = net.connect({ host: f.host, port: server.address().port });
  await once(client, 'connect');
  const [s] = await conn;
  out(`${f.name} then connected: client remote ${client.remoteAddress} ${port(client.remotePort)}, server side remote ${s.remoteAddress} ${port(s.remotePort)} (client local ${port(client.localPort)})`);
  client.destroy();
  s.destroy();
  server.close();
  await once(server, 'close');
}

run(async () => {
  for (const f of families) {
    await refused(f);
    await accepted(f);
  }
});

'use strict';
// TCP server and client in one process, over IPv4 and IPv6: each side's
// remoteAddress / remotePort / remoteFamily (getpeername underneath) against
// what the other side says about itself, then an exchange both ways.
const net = require('net');
const { port, section, out, run, once, families } = require('./common.js');

async function pair(f) {
  section();
  const server = net.createServer();
  server.listen(0, f.host);
  await once(server, 'listening');
  const listening = server.address();
  out(`${f.name} server listening on ${listening.address} ${port(listening.port)} ${listening.family}`);

  const accepted = once(server, 'connection');
  const client = net.connect({ host: f.host, port: listening.port });
  await once(client, 'connect');
  const [conn] = await accepted;

  out(`${f.name} client local ${client.localAddress} ${port(client.localPort)}`);
  out(`${f.name} client remote ${client.remoteAddress} ${port(client.remotePort)} ${client.remoteFamily}`);
  out(`${f.name} server side local ${conn.localAddress} ${port(conn.localPort)}`);
  out(`${f.name} server side remote ${conn.remoteAddress} ${port(conn.remotePort)} ${conn.remoteFamily}`);
  out(`${f.name} both ends agree: ${conn.remotePort === client.localPort && client.remotePort === conn.localPort}`);

  // An exchange both ways, then the peer again (it must not change).
  conn.setEncoding('utf8');
  client.setEncoding('utf8');
  conn.write(`hello from ${conn.localAddress}`);
  const [toClient] = await once(client, 'data');
  client.write(`hello from ${client.localAddress}`);
  const [toServer] = await once(conn, 'data');
  out(`${f.name} client got "${toClient}", server got "${toServer}"`);
  out(`${f.name} client remote after exchange ${client.remoteAddress} ${port(client.remotePort)}`);

  client.end();
  await once(conn, 'end');
  conn.end();
  await once(client, 'close');
  server.close();
  await once(server, 'close');
  out(`${f.name} closed`);
}

run(async () => {
  for (const f of families) await pair(f);
});

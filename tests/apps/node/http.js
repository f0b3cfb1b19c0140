'use strict';
// An HTTP server that reads req.socket.remoteAddress / remotePort on every
// request and answers with them, and a client making REQUESTS requests over
// one kept-alive connection, then REQUESTS requests with a new connection
// each; over IPv4 and IPv6. Each answer is checked against the client
// socket's own local address and port.
const http = require('http');
const { port, section, out, run, once, families } = require('./common.js');

const REQUESTS = 20;

function get(options) {
  return new Promise((resolve, reject) => {
    const req = http.get(options, (res) => {
      // The socket is handed back to the agent at 'end': read it now.
      // Connections are counted by socket object, not by port (a port may
      // come round again).
      const local = res.socket.localPort;
      const socket = res.socket;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body, local, socket }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function series(f, serverPort, keepAlive) {
  section();
  out(`${f.name} ${keepAlive ? 'keep-alive' : 'new connection'} to ${f.host} ${port(serverPort)}`);
  const agent = new http.Agent({ keepAlive, maxSockets: 1 });
  const sockets = new Set();
  let matching = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const r = await get({ host: f.host, port: serverPort, path: `/${i}`, agent });
    const [addr, peerPort, family] = r.body.split(' ');
    if (r.status === 200 && addr === f.host && Number(peerPort) === r.local && family === f.name) matching++;
    if (i === 0) out(`${f.name} ${keepAlive ? 'keep-alive' : 'new connection'} first answer: ${r.status} ${addr} ${port(Number(peerPort))} ${family} (client port ${port(r.local)})`);
    sockets.add(r.socket);
  }
  agent.destroy();
  out(`${f.name} ${keepAlive ? 'keep-alive' : 'new connection'}: ${REQUESTS} requests, ${matching} answered with the client's own address and port, ${sockets.size} connection(s)`);
}

async function serve(f) {
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    res.end(`${req.socket.remoteAddress} ${req.socket.remotePort} ${req.socket.remoteFamily}`);
  });
  server.listen(0, f.host);
  await once(server, 'listening');
  out(`${f.name} HTTP server listening`);
  await series(f, server.address().port, true);
  await series(f, server.address().port, false);
  server.close();
  await once(server, 'close');
  out(`${f.name} served ${served}`);
}

run(async () => {
  for (const f of families) await serve(f);
});

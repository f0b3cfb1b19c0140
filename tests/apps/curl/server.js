'use strict';
// The local HTTP server the curl scenario talks to. It runs natively (the
// nodejs that Debian's npm depends on), not under Wine: the program under
// test is curl.exe. Four listeners on system-chosen ports, two per family:
//   /hello         200, "hello from <listener>, you are <client ip> <client port>"
//   /to/<name>     302 to /hello on the listener called <name> (v4a v4b v6a v6b)
// plus a port per family that was listening and is now closed (refused4,
// refused6). Prints one line "name=port ..." on stdout once everything
// listens, then serves until it is killed or its stdin closes.
const http = require('http');
const net = require('net');

const plan = [
  { name: 'v4a', host: '127.0.0.1' },
  { name: 'v4b', host: '127.0.0.1' },
  { name: 'v6a', host: '::1' },
  { name: 'v6b', host: '::1' },
];
const byName = new Map();

function url(l, path) {
  const host = l.host.includes(':') ? `[${l.host}]` : l.host;
  return `http://${host}:${l.port}${path}`;
}

function handler(self) {
  return (req, res) => {
    const to = req.url.match(/^\/to\/(\w+)$/);
    if (req.url === '/hello') {
      res.end(`hello from ${self.name}, you are ${req.socket.remoteAddress} ${req.socket.remotePort}\n`);
    } else if (to && byName.has(to[1])) {
      res.writeHead(302, { Location: url(byName.get(to[1]), '/hello') });
      res.end();
    } else {
      res.writeHead(404);
      res.end('not found\n');
    }
  };
}

function listen(server, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve(server.address().port));
  });
}

(async () => {
  for (const l of plan) {
    l.port = await listen(http.createServer(handler(l)), l.host);
    byName.set(l.name, l);
  }
  // Closed ports: chosen while the listeners above are open, so none of
  // theirs; closed again at once.
  const closed = [];
  for (const host of ['127.0.0.1', '::1']) {
    const probe = net.createServer();
    closed.push(await listen(probe, host));
    await new Promise((resolve) => probe.close(resolve));
  }
  process.stdout.write(plan.map((l) => `${l.name}=${l.port}`).join(' ') + ` refused4=${closed[0]} refused6=${closed[1]}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
})().catch((err) => {
  process.stderr.write(`curl server: ${err.stack}\n`);
  process.exit(1);
});

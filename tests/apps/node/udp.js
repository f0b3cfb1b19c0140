'use strict';
// UDP over IPv4 and IPv6: remoteAddress() (getpeername on every call) before
// connect, after connect, after a datagram each way, after disconnect, and
// after connecting to a second peer.
const dgram = require('dgram');
const { port, section, out, run, once, families } = require('./common.js');

function remote(sock) {
  try {
    const r = sock.remoteAddress();
    return `${r.address} ${port(r.port)} ${r.family}`;
  } catch (err) {
    return `error ${err.code}`;
  }
}

async function bound(f) {
  const s = dgram.createSocket(f.udp);
  s.bind(0, f.host);
  await once(s, 'listening');
  return s;
}

async function udp(f) {
  section();
  const a = await bound(f);
  const b = await bound(f);
  const c = await bound(f);
  out(`${f.name} a ${port(a.address().port)} b ${port(b.address().port)} c ${port(c.address().port)}`);
  out(`${f.name} a before connect: ${remote(a)}`);

  a.connect(b.address().port, f.host);
  await once(a, 'connect');
  out(`${f.name} a connected to b: ${remote(a)}`);

  a.send('ping');
  const [msg, rinfo] = await once(b, 'message');
  out(`${f.name} b got "${msg}" from ${rinfo.address} ${port(rinfo.port)}`);
  b.send('pong', rinfo.port, rinfo.address);
  const [reply, rinfo2] = await once(a, 'message');
  out(`${f.name} a got "${reply}" from ${rinfo2.address} ${port(rinfo2.port)}`);
  out(`${f.name} a after exchange: ${remote(a)}`);

  a.disconnect();
  out(`${f.name} a after disconnect: ${remote(a)}`);

  a.connect(c.address().port, f.host);
  await once(a, 'connect');
  out(`${f.name} a connected to c: ${remote(a)}`);
  a.send('again');
  const [m3, r3] = await once(c, 'message');
  // Not named: Wine (like Linux) gives a socket bound to port 0 a new port
  // when it is disconnected, which may be the old one again.
  out(`${f.name} c got "${m3}" from ${r3.address}, a's current port: ${r3.port === a.address().port}`);

  for (const s of [a, b, c]) {
    s.close();
    await once(s, 'close');
  }
}

run(async () => {
  for (const f of families) await udp(f);
});

'use strict';
// Shared by the scenarios: output in a normalised form, so that a run
// directly on Wine, a run routed --base-only and a run through peerlsp can be
// compared byte for byte. Ports the system chooses are printed as names
// given in order of first appearance (<port1>, <port2>, ...): the same port
// seen from both ends of a connection gets the same name, so an answer that
// names the wrong port shows up as a different name. Names start again at
// each section(): within one, every port named belongs to a socket that is
// still open, so two names never stand for one port because the system gave
// a closed socket's port out again.
let portNames = new Map();

function section() {
  portNames = new Map();
}

function port(p) {
  if (typeof p !== 'number') return `(${typeof p} ${String(p)})`;
  if (!portNames.has(p)) portNames.set(p, `<port${portNames.size + 1}>`);
  return portNames.get(p);
}

function out(line) {
  process.stdout.write(line + '\n');
}

// A scenario that throws or rejects prints FAIL and exits non-zero; the
// runner's comparison then fails too.
function run(main) {
  main().then(
    () => { out('done'); },
    (err) => {
      out(`FAIL ${err && err.stack ? err.stack : err}`);
      process.exitCode = 1;
    });
}

function once(emitter, event) {
  return new Promise((resolve, reject) => {
    const onEvent = (...args) => { emitter.removeListener('error', onError); resolve(args); };
    const onError = (err) => { emitter.removeListener(event, onEvent); reject(err); };
    emitter.once(event, onEvent);
    if (event !== 'error') emitter.once('error', onError);
  });
}

// The loopback of each family, as the scenarios use them.
const families = [
  { name: 'IPv4', host: '127.0.0.1', udp: 'udp4' },
  { name: 'IPv6', host: '::1', udp: 'udp6' },
];

module.exports = { port, section, out, run, once, families };

// The Node peer of the TCP echo benchmark (bench/echo_run).
//
//   node echo.js --port P
//
// The net module: each 'data' chunk is written back; reading pauses while
// the socket's write buffer is full and resumes on 'drain'. TCP_NODELAY is
// set, as Go and asyncio set it by default. Node raises the soft
// RLIMIT_NOFILE to the hard limit at start.
'use strict';
const net = require('net');

const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : NaN;
if (!Number.isInteger(port)) {
  console.error('usage: node echo.js --port P');
  process.exit(2);
}

const server = net.createServer({ noDelay: true }, (sock) => {
  sock.on('data', (chunk) => {
    if (!sock.write(chunk)) sock.pause();
  });
  sock.on('drain', () => sock.resume());
  sock.on('error', () => sock.destroy());
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 });

// A small SMTP sink for the browser tests: accepts every message on 127.0.0.1:3125 and lists
// them as JSON at http://127.0.0.1:3126/messages, where tests read links and codes. `make
// lighthouse` runs its own beside the tests' on other ports: SINK_SMTP_PORT, SINK_HTTP_PORT.
const net = require('net');
const http = require('http');

const messages = [];

net
  .createServer((socket) => {
    let buffer = '';
    let inData = false;
    let data = [];
    let rcpt = [];
    socket.write('220 sink ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let i;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (inData) {
          if (line === '.') {
            messages.push({ to: rcpt, data: data.join('\r\n') });
            inData = false;
            data = [];
            rcpt = [];
            socket.write('250 queued\r\n');
          } else {
            data.push(line.startsWith('..') ? line.slice(1) : line);
          }
          continue;
        }
        const upper = line.toUpperCase();
        if (upper.startsWith('EHLO')) socket.write('250-sink\r\n250 8BITMIME\r\n');
        else if (upper.startsWith('RCPT TO:')) {
          rcpt.push(line.slice(8).trim().replace(/^<|>$/g, ''));
          socket.write('250 OK\r\n');
        } else if (upper.startsWith('DATA')) {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (upper.startsWith('QUIT')) {
          socket.end('221 bye\r\n');
        } else socket.write('250 OK\r\n');
      }
    });
    socket.on('error', () => {});
  })
  .listen(Number(process.env.SINK_SMTP_PORT || 3125), '127.0.0.1');

http
  .createServer((req, res) => {
    if (req.url === '/messages') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(messages));
    } else {
      res.writeHead(404);
      res.end();
    }
  })
  .listen(Number(process.env.SINK_HTTP_PORT || 3126), '127.0.0.1');

// Fakes for the chat connector tests on 127.0.0.1:3127: Telegram's Bot API under /telegram
// (it records what the bot sends), an agent endpoint under /agent that checks Onboard's
// signature and echoes, and a webhook receiver under /webhook that keeps each delivery's
// headers and raw body for the test to verify. GET /recorded lists all three.
const http = require('http');
const crypto = require('crypto');

const AGENT_SECRET = 'e2e agent signing secret';
const sent = [];
const agentCalls = [];
const webhooks = [];

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

http
  .createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const telegram = req.url.match(/^\/telegram\/bot([^/]+)\/(\w+)$/);
      if (req.method === 'GET' && req.url === '/recorded') return json(res, 200, { sent, agentCalls, webhooks });
      if (telegram) {
        const [, , method] = telegram;
        const args = body ? JSON.parse(body) : {};
        if (method === 'sendMessage') {
          sent.push({ chat_id: args.chat_id, text: args.text });
          return json(res, 200, { ok: true, result: { message_id: sent.length } });
        }
        if (method === 'getUserProfilePhotos') return json(res, 200, { ok: true, result: { total_count: 0, photos: [] } });
        return json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      }
      if (req.method === 'POST' && req.url === '/agent') {
        const timestamp = req.headers['x-onboard-timestamp'];
        const expected = 'v1=' + crypto.createHmac('sha256', AGENT_SECRET).update(`${timestamp}.${body}`).digest('hex');
        if (req.headers['x-onboard-signature'] !== expected) return json(res, 401, { error: 'bad signature' });
        const call = JSON.parse(body);
        agentCalls.push(call);
        return json(res, 200, { reply: `Echo: ${call.text}` });
      }
      if (req.method === 'POST' && req.url === '/webhook') {
        const headers = {};
        for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) headers[name] = req.headers[name];
        webhooks.push({ headers, body });
        res.writeHead(204);
        return res.end();
      }
      json(res, 404, { error: 'not found' });
    });
  })
  .listen(3127, '127.0.0.1');

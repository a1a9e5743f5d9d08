// Opens N WebSocket subscribers to the daemon's "download" channel and counts
// what they receive until SIGTERM or SIGINT.
//   node ws_subscribers.mjs WS_URL N
// Prints "ready" once every subscriber is confirmed, and on exit one JSON
// line: {"subscribers", "messages", "progress", "complete", "min_complete"}.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/node/package.json', import.meta.url));
const WebSocket = require('ws');

const [url, countText] = process.argv.slice(2);
const count = Number(countText);
if (!url || !count) {
  console.error('usage: node ws_subscribers.mjs WS_URL N');
  process.exit(2);
}

const stats = { subscribers: 0, messages: 0, progress: 0, complete: 0 };
const completes = new Array(count).fill(0);
let confirmed = 0;
for (let i = 0; i < count; ++i) {
  const socket = new WebSocket(url);
  socket.on('open', () => socket.send(JSON.stringify({ subscribe: 'download' })));
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    ++stats.messages;
    if (message.channel === 'system') {
      if (message.type === 'subscribed' && ++confirmed === count) console.log('ready');
      return;
    }
    if (message.type === 'complete') ++completes[i];
    else if (message.type === 'progress') ++stats.progress;
  });
  socket.on('error', (error) => {
    console.error(`subscriber ${i}: ${error.message}`);
    process.exit(1);
  });
  ++stats.subscribers;
}

function finish() {
  stats.complete = completes.reduce((a, b) => a + b, 0);
  stats.min_complete = Math.min(...completes);
  console.log(JSON.stringify(stats));
  process.exit(0);
}
process.on('SIGTERM', finish);
process.on('SIGINT', finish);

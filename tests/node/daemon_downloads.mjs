// Used by tests/integration/daemon_events_test.cpp: connects the stock
// socket.io-client (default options) to a running haul daemon's /downloads
// namespace, queues one download over REST, and prints one JSON line per
// event until the job completes.
//   node daemon_downloads.mjs DAEMON_URL SOURCE_URL
import { io } from 'socket.io-client';

const [daemon, source] = process.argv.slice(2);
const timer = setTimeout(() => {
  console.error('timed out waiting for the download to complete');
  process.exit(1);
}, 30000);

const socket = io(`${daemon}/downloads`);
// The transport the engine opened with (it may upgrade before 'connect').
let firstTransport = null;
socket.io.on('open', () => {
  firstTransport = socket.io.engine.transport.name;
});
socket.on('connect_error', (error) => {
  console.error(`connect_error: ${error.message}`);
  process.exit(1);
});

socket.on('connect', async () => {
  console.log(JSON.stringify({ event: 'connect', transport: firstTransport ?? socket.io.engine.transport.name }));
  const reply = await fetch(`${daemon}/api/v1/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ source }),
  });
  const job = await reply.json();
  const mine = (data) => data && data.jobId === job.id;
  for (const event of ['progress', 'failed', 'cancelled']) {
    socket.on(event, (data) => {
      if (mine(data)) console.log(JSON.stringify({ event, data }));
      if (mine(data) && event !== 'progress') process.exit(1);
    });
  }
  socket.on('complete', (data) => {
    if (!mine(data)) return;
    console.log(JSON.stringify({ event: 'complete', data, final_transport: socket.io.engine.transport.name }));
    clearTimeout(timer);
    socket.close();
    process.exit(0);
  });
});

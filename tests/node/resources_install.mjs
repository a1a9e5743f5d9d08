// Used by tests/integration/daemon_remote_test.cpp: seed 001's client code,
// unchanged in substance: connect to the /resources namespace with the stock
// socket.io-client, POST /resources/install, emit subscribe_install with the
// job id, and print one JSON line per event until the install completes or
// fails. SUBSCRIBE_DELAY_MS (default 0) plays a slow client that subscribes
// that much later: it must still get every event of the job from its start.
//   node resources_install.mjs DAEMON_URL BODY_JSON [SUBSCRIBE_DELAY_MS]
import { io } from 'socket.io-client';
import { setTimeout as delay } from 'node:timers/promises';

const [daemon, body, subscribeDelay] = process.argv.slice(2);
const timer = setTimeout(() => {
  console.error('timed out waiting for the installation to end');
  process.exit(1);
}, 60000);

const socket = io(`${daemon}/resources`);
const print = (event, data) => console.log(JSON.stringify({ event, data }));
socket.on('connect_error', (error) => {
  console.error(`connect_error: ${error.message}`);
  process.exit(1);
});
socket.on('subscribed', (data) => print('subscribed', data));
socket.on('resource_install_progress', (data) => print('resource_install_progress', data));
const end = (event) => (data) => {
  print(event, data);
  clearTimeout(timer);
  socket.close();
  process.exit(0);
};
socket.on('resource_install_complete', end('resource_install_complete'));
socket.on('resource_install_error', end('resource_install_error'));

socket.on('connect', async () => {
  const response = await fetch(`${daemon}/resources/install`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
  });
  const result = await response.json();
  print('install', result);
  if (!result.success) process.exit(1);
  await delay(Number(subscribeDelay ?? 0));
  socket.emit('subscribe_install', { job_id: result.job_id });
});

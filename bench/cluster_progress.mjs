// Two `haul serve` nodes on one PostgreSQL queue, seen through their
// WebSockets (channel "download") from this one process, so every receive
// time is on one clock.
//   node cluster_progress.mjs latency BASE_A BASE_B JOB_JSON...
//     Posts the jobs to A (pin them to A: "node": "<A's name>") and waits
//     until B has shown each complete. B shows only what A stored (A writes
//     progress every 500 ms): for each of B's progress messages, the time
//     since A's latest message with the same job and bytesDownloaded (a
//     value A stored without showing it is not counted). Prints
//     {"samples", "unmatched", "p50_ms", "p99_ms", "max_ms"}.
//   node cluster_progress.mjs takeover BASE_B JOB_ID PID_A [DELAY_MS]
//     DELAY_MS after B first shows the job, SIGKILLs A (its runner); waits until
//     B's stream shows it again under B: a restart (bytes going down, or a
//     status other than "downloading"), then bytes going up. Prints
//     {"seconds"}: from the kill to that message.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/node/package.json', import.meta.url));
const WebSocket = require('ws');

const [mode, ...args] = process.argv.slice(2);
const now = () => Number(process.hrtime.bigint()) / 1e6;  // ms
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const fail = (message) => { console.error(`cluster_progress: ${message}`); process.exit(1); };
const deadline = (seconds, what) => setTimeout(() => fail(`no ${what} after ${seconds} s`), seconds * 1000);

// subscribe(BASE, onMessage) -> a promise resolved once subscribed.
function subscribe(base, onMessage) {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/ws`);
    socket.on('open', () => socket.send(JSON.stringify({ subscribe: 'download' })));
    socket.on('error', (error) => fail(`${base}: ${error.message}`));
    socket.on('message', (data) => {
      const at = now();
      const message = JSON.parse(data.toString());
      if (message.channel === 'system') {
        if (message.type === 'subscribed') resolve();
        return;
      }
      if (message.channel === 'download') onMessage(message.type, message.data, at);
    });
  });
}

if (mode === 'latency' && args.length >= 3) {
  const [baseA, baseB, ...bodies] = args;
  const seenOnA = new Map();  // "job bytes" -> latest receive time on A
  const latencies = [];
  const completed = new Set();
  let unmatched = 0;
  await subscribe(baseA, (type, data, at) => {
    seenOnA.set(`${data.jobId} ${data.bytesDownloaded}`, at);
  });
  await subscribe(baseB, (type, data, at) => {
    if (type === 'complete') completed.add(data.jobId);
    if (type !== 'progress' || data.status !== 'downloading' || data.bytesDownloaded === 0) return;
    const onA = seenOnA.get(`${data.jobId} ${data.bytesDownloaded}`);
    if (onA === undefined) ++unmatched;  // stored between two of A's messages
    else latencies.push(at - onA);
  });
  const ids = [];
  for (const body of bodies) {
    const reply = await fetch(`${baseA}/api/v1/jobs`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (reply.status !== 201) fail(`POST /api/v1/jobs answered ${reply.status}: ${await reply.text()}`);
    ids.push((await reply.json()).id);
  }
  deadline(600, 'completion of every job on B');
  while (!ids.every((id) => completed.has(id))) await new Promise((r) => setTimeout(r, 100));
  if (latencies.length === 0) fail('no progress value seen on both nodes');
  console.log(JSON.stringify({
    samples: latencies.length, unmatched, p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99), max_ms: Math.max(...latencies) }));
  process.exit(0);
} else if (mode === 'takeover' && (args.length === 3 || args.length === 4)) {
  const [baseB, jobId, pidA, delay = '0'] = args;
  let shown = false;
  let killedAt = null;
  let restarted = false;
  let last = null;  // B's previous message of the job: {bytes, status}
  await subscribe(baseB, (type, data, at) => {
    if (data.jobId !== jobId) return;
    shown = true;
    const bytes = data.bytesDownloaded;
    if (killedAt !== null && last !== null) {
      if (bytes < last.bytes || data.status !== 'downloading') restarted = true;
      else if (restarted && bytes > last.bytes) {
        console.log(JSON.stringify({ seconds: (at - killedAt) / 1000 }));
        process.exit(0);
      }
    }
    last = { bytes, status: data.status };
  });
  const before = deadline(10, 'message of the job on B before the kill');
  while (!shown) await new Promise((r) => setTimeout(r, 50));
  clearTimeout(before);
  await new Promise((r) => setTimeout(r, Number(delay)));
  process.kill(Number(pidA), 'SIGKILL');
  killedAt = now();
  deadline(120, 'progress of the job on B after the kill');
} else {
  console.error('usage: node cluster_progress.mjs latency BASE_A BASE_B JOB_JSON... | takeover BASE_B JOB_ID PID_A [DELAY_MS]');
  process.exit(2);
}

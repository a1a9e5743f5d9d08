// Single-job POSTs, IN_FLIGHT at a time, for SECONDS: how many durable jobs
// per second the daemon accepts (its 201 comes after the commit), and the
// latency of GET /api/v1/jobs/{id} for the jobs made, measured meanwhile by
// one more client that reads one job after another.
//   node post_jobs.mjs BASE_URL SOURCE_PREFIX [SECONDS] [IN_FLIGHT]
// Prints one JSON line: {"jobs", "seconds", "jobs_per_s", "post_p50_ms",
// "post_p99_ms", "gets", "get_p50_ms", "get_p99_ms"}.
import http from 'node:http';

const [base, prefix, secondsText = '10', inFlightText = '32'] = process.argv.slice(2);
if (!base || !prefix) {
  console.error('usage: node post_jobs.mjs BASE_URL SOURCE_PREFIX [SECONDS] [IN_FLIGHT]');
  process.exit(2);
}
const seconds = Number(secondsText);
const inFlight = Number(inFlightText);
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight + 1 });
const url = new URL(base);

// request(METHOD, PATH, BODY?) -> {status, body}
function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path, method, agent,
        headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const percentile = (values, p) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const now = () => Number(process.hrtime.bigint()) / 1e6;  // ms

const ids = [];
const postTimes = [];
const getTimes = [];
let serial = 0;
const deadline = now() + seconds * 1000;

async function poster(worker) {
  while (now() < deadline) {
    const body = JSON.stringify({ source: `${prefix}/${worker}-${serial++}.bin`, dest: 'single' });
    const started = now();
    const reply = await request('POST', '/api/v1/jobs', body);
    if (reply.status !== 201) throw new Error(`POST /api/v1/jobs answered ${reply.status}: ${reply.body}`);
    postTimes.push(now() - started);
    ids.push(JSON.parse(reply.body).id);
  }
}

async function reader() {
  while (now() < deadline) {
    if (ids.length === 0) { await new Promise((r) => setTimeout(r, 1)); continue; }
    const id = ids[Math.floor(Math.random() * ids.length)];
    const started = now();
    const reply = await request('GET', `/api/v1/jobs/${id}`);
    if (reply.status !== 200) throw new Error(`GET /api/v1/jobs/${id} answered ${reply.status}`);
    getTimes.push(now() - started);
  }
}

const started = now();
await Promise.all([...Array.from({ length: inFlight }, (_, i) => poster(i)), reader()]);
const elapsed = (now() - started) / 1000;
agent.destroy();
console.log(JSON.stringify({
  jobs: postTimes.length, seconds: elapsed, jobs_per_s: postTimes.length / elapsed,
  post_p50_ms: percentile(postTimes, 50), post_p99_ms: percentile(postTimes, 99),
  gets: getTimes.length, get_p50_ms: percentile(getTimes, 50), get_p99_ms: percentile(getTimes, 99),
}));

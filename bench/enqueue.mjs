// Enqueues N jobs through POST /api/v1/jobs in batches and reports durable
// jobs/s: the daemon answers only after the jobs are committed to its store.
//   node enqueue.mjs BASE_URL SOURCE_PREFIX COUNT [BATCH] [IN_FLIGHT]
// Prints one JSON line: {"jobs", "seconds", "jobs_per_s", "ids_file"?}.
const [base, prefix, countText, batchText = '1000', inFlightText = '4'] = process.argv.slice(2);
if (!base || !prefix || !countText) {
  console.error('usage: node enqueue.mjs BASE_URL SOURCE_PREFIX COUNT [BATCH] [IN_FLIGHT]');
  process.exit(2);
}
const count = Number(countText);
const batch = Number(batchText);
const inFlight = Number(inFlightText);

let next = 0;
let added = 0;
async function worker() {
  while (next < count) {
    const first = next;
    next = Math.min(count, next + batch);
    const jobs = [];
    for (let i = first; i < next; ++i) jobs.push({ source: `${prefix}/${i}.bin`, dest: 'queue' });
    const reply = await fetch(`${base}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobs }),
    });
    if (reply.status !== 201) throw new Error(`POST /api/v1/jobs answered ${reply.status}: ${await reply.text()}`);
    const body = await reply.json();
    added += body.jobs.filter((job) => !job.existing).length;
  }
}

const started = process.hrtime.bigint();
await Promise.all(Array.from({ length: inFlight }, worker));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
if (added !== count) throw new Error(`asked for ${count} new jobs, the daemon made ${added}`);
console.log(JSON.stringify({ jobs: added, seconds, jobs_per_s: added / seconds }));

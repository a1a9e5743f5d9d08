// The Downloads and Add views against a daemon with the test HTTP server as
// the source (tests/integration/web_ui_test.cpp, WebUiTest.Downloads):
// add a download in the Add view and watch its bar reach 100 %; an API error
// shown next to its field; pause and resume; cancel; a failing URL's error
// text; a job of three files shows a row per file; with the WebSocket
// blocked the page polls, says so and still shows progress; screenshots of
// Downloads and Add (light/dark, wide/narrow).
//   node downloads.mjs DAEMON_URL ADD_URL SLOW_URL ENDLESS_URL MISSING_URL POLLED_URL
import { run, jobRow } from './browser.mjs';

const [, , , addUrl, slowUrl, endlessUrl, missingUrl, polledUrl] = process.argv;

// The job the daemon holds for `source` (the UI added it).
async function jobOf(ui, source) {
  return ui.untilNode(`a job with source ${source}`, async () => {
    const list = await ui.api('GET', '/api/v1/jobs');
    const jobs = Array.isArray(list) ? list : list.jobs;
    return jobs.find((job) => job.source === source) || null;
  });
}

const intermediate = (seen) => seen.filter((p) => p > 0 && p < 100);

run('downloads', async (ui) => {
  const page = await ui.newPage();

  await ui.scenario('add view: a download reaches 100 %', async () => {
    await page.goto(`${ui.daemon}/#/add`);
    await page.locator('nav[aria-label=Views] a[aria-current=page]', { hasText: 'Add' }).waitFor();
    const sources = page.getByLabel('Sources', { exact: true });
    await sources.fill(addUrl);
    const dest = page.getByLabel('Destination folder', { exact: true });
    const target = page.getByLabel('Target', { exact: true });
    const firstDest = await dest.locator('option').first().textContent();
    if (firstDest.trim() !== 'Automatic')
      throw new Error(`"Destination folder" starts with "${firstDest}", not "Automatic"`);
    const firstTarget = await target.locator('option').first().textContent();
    if (firstTarget.trim() !== 'This machine')
      throw new Error(`"Target" starts with "${firstTarget}", not "This machine"`);
    await page.getByRole('button', { name: 'Add downloads', exact: true }).click();
    await ui.until(page, 'the Downloads view after adding', () => location.hash === '#/downloads');
    const job = await jobOf(ui, addUrl);
    const done = await ui.watchRow(page,
      job.id,
      `job ${job.id}'s bar at 100 % and state completed`,
      (row) => row.percent === 100 && row.state === 'completed',
    );
    if (intermediate(done.seen).length === 0)
      throw new Error(`the bar jumped to 100 % without showing progress: ${done.seen.join(',')}`);
    if (!/complete/i.test(done.stateText)) throw new Error(`state text "${done.stateText}"`);
    if (done.name !== job.name) throw new Error(`name "${done.name}", the API says "${job.name}"`);
    if (!done.bytes) throw new Error('no bytes text in the completed row');
    await ui.screenshot(page, 'downloads-after-add');
  });

  await ui.scenario('add view: an API error shows next to Sources', async () => {
    ui.allowConsole(/status of 422/);
    await page.goto(`${ui.daemon}/#/add`);
    await page.getByLabel('Sources', { exact: true }).fill('gopher://example.com/model.bin');
    await page.getByRole('button', { name: 'Add downloads', exact: true }).click();
    const error = page.locator('[data-testid=sources-error]');
    await error.waitFor({ state: 'visible' });
    const text = (await error.textContent()).trim();
    if (!text) throw new Error('[data-testid=sources-error] is visible but empty');
    if ((await error.getAttribute('role')) !== 'alert')
      throw new Error('[data-testid=sources-error] is not role=alert');
    if (await page.evaluate(() => location.hash !== '#/add')) throw new Error('left the Add view');
    await ui.screenshots(page, 'add');
  });

  await ui.scenario('pause and resume', async () => {
    await page.goto(`${ui.daemon}/#/downloads`);
    const job = await ui.api('POST', '/api/v1/jobs', { source: slowUrl });
    const row = jobRow(page, job.id);
    await ui.watchRow(page, job.id, `job ${job.id} running with progress`, (r) =>
      r.state === 'running' && r.percent > 0 && r.actions.includes('pause'),
    );
    const pause = row.locator('[data-action=pause]');
    const label = await pause.getAttribute('aria-label');
    if (!label || !label.startsWith('Pause')) throw new Error(`pause button aria-label "${label}"`);
    await pause.click();
    const paused = await ui.watchRow(page, job.id, `job ${job.id} paused`, (r) =>
      r.state === 'paused' && r.actions.includes('resume') && !r.actions.includes('pause'),
    );
    const held = await ui.api('GET', `/api/v1/jobs/${job.id}`);
    if (held.state !== 'paused') throw new Error(`the API says ${held.state} after Pause`);
    if (paused.percent >= 100) throw new Error('the job finished before it could be paused');
    const mark = paused.seen.length;
    await row.locator('[data-action=resume]').click();
    await ui.watchRow(page,
      job.id,
      `job ${job.id} resumed and completed`,
      (r) => r.state === 'completed' && r.percent === 100,
    );
    const after = ui.seenPercents.get(job.id).slice(mark);
    if (!after.some((p) => p > paused.percent && p < 100))
      throw new Error(`no progress shown between resume and 100 %: ${after.join(',')}`);
  });

  await ui.scenario('cancel', async () => {
    const job = await ui.api('POST', '/api/v1/jobs', { source: endlessUrl });
    const row = jobRow(page, job.id);
    await ui.watchRow(page, job.id, `job ${job.id} running with progress`, (r) =>
      r.state === 'running' && r.percent > 0 && r.actions.includes('cancel'),
    );
    const cancel = row.locator('[data-action=cancel]');
    const label = await cancel.getAttribute('aria-label');
    if (!label || !label.startsWith('Cancel')) throw new Error(`cancel button aria-label "${label}"`);
    await cancel.click();
    const cancelled = await ui.watchRow(page, job.id, `job ${job.id} cancelled`, (r) =>
      r.state === 'cancelled' && !r.actions.includes('pause') && !r.actions.includes('cancel'),
    );
    if (!/cancel/i.test(cancelled.stateText))
      throw new Error(`state text "${cancelled.stateText}" for a cancelled job`);
    await ui.untilNode(`job ${job.id} cancelled in the API`, async () => {
      const now = await ui.api('GET', `/api/v1/jobs/${job.id}`);
      return now.state === 'cancelled' && now.pending_action === null;
    });
  });

  await ui.scenario('a job of three files shows one row per file', async () => {
    await page.goto(`${ui.daemon}/#/downloads`);
    const names = ['a', 'b', 'c'];
    const job = await ui.api('POST', '/api/v1/jobs', {
      name: 'three files',
      files: names.map((n) => ({ source: `${addUrl}?file=${n}`, path: `multi/${n}.bin` })),
    });
    await ui.watchRow(page, job.id, `job ${job.id} completed`, (r) => r.state === 'completed');
    const files = await ui.until(page, `three file rows of job ${job.id} at 100 %`, (id) => {
      const row = document.querySelector(`[data-testid=job-row][data-job-id="${id}"]`);
      if (!row) return null;
      const rows = [...row.querySelectorAll('[data-testid=file-row]')].map((f) => ({
        name: f.querySelector('[data-field=file-name]')?.textContent.trim(),
        percent: Number(f.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')),
      }));
      return rows.length === 3 && rows.every((f) => f.percent === 100) ? rows : null;
    }, job.id);
    const shown = files.map((f) => f.name).join(',');
    for (const n of names) {
      if (!files.some((f) => f.name.includes(`${n}.bin`)))
        throw new Error(`no file row for ${n}.bin (rows: ${shown})`);
    }
  });

  await ui.scenario('a failing URL shows its error', async () => {
    await page.goto(`${ui.daemon}/#/add`);
    await page.getByLabel('Sources', { exact: true }).fill(missingUrl);
    await page.getByRole('button', { name: 'Add downloads', exact: true }).click();
    await ui.until(page, 'the Downloads view after adding', () => location.hash === '#/downloads');
    const job = await jobOf(ui, missingUrl);
    const failed = await ui.watchRow(page, job.id, `job ${job.id} failed with an error`, (r) =>
      r.state === 'failed' && !!r.error,
    );
    const api = await ui.api('GET', `/api/v1/jobs/${job.id}`);
    if (!api.error || !failed.error.includes(api.error.message))
      throw new Error(`row error "${failed.error}" does not show the job's "${api.error?.message}"`);
    if (!/404/.test(failed.error)) throw new Error(`row error "${failed.error}" does not say 404`);
    if (!failed.actions.includes('retry')) throw new Error(`a failed job offers ${failed.actions}`);
    // Every state so far, in every theme and width.
    await ui.until(page, 'the failed row visible', (id) => {
      const row = document.querySelector(`[data-testid=job-row][data-job-id="${id}"]`);
      return row && row.getBoundingClientRect().height > 0;
    }, job.id);
    await ui.screenshots(page, 'downloads');
    await page.close();
  });

  await ui.scenario('WebSocket blocked: the page polls and says so', async () => {
    const polled = await ui.newPage({ blockWebSocket: true });
    await polled.goto(`${ui.daemon}/#/downloads`);
    const state = await ui.until(polled, 'the connection indicator saying Polling', () => {
      const el = document.querySelector('[data-testid=connection]');
      return el && el.dataset.state === 'polling' && /Polling/.test(el.textContent)
        ? el.textContent.trim()
        : null;
    });
    const attempts = await polled.evaluate(() => window.__haulBlockedSockets || 0);
    if (attempts < 1) throw new Error('the page never tried a WebSocket (so nothing was blocked)');
    if (!/2 s/.test(state)) throw new Error(`the indicator says "${state}", not how often it polls`);
    const job = await ui.api('POST', '/api/v1/jobs', { source: polledUrl });
    const done = await ui.watchRow(polled,
      job.id,
      `job ${job.id} at 100 % by polling`,
      (r) => r.state === 'completed' && r.percent === 100,
    );
    if (intermediate(done.seen).length === 0)
      throw new Error(`polling showed no progress before 100 %: ${done.seen.join(',')}`);
    const still = await polled.evaluate(() =>
      document.querySelector('[data-testid=connection]').dataset.state,
    );
    if (still !== 'polling') throw new Error(`the indicator went to "${still}" with no WebSocket`);
    await ui.screenshot(polled, 'downloads-polling');
  });
});

// A 1,000-job queue and a daemon restart (tests/integration/web_ui_test.cpp,
// WebUiTest.QueueAndRestart): the jobs, added through the API while the page
// is open, all show up; the list holds far fewer rows than jobs in the DOM and
// scrolling it reaches every one of them, the last included. Then the test
// restarts the daemon on the same port when this script prints
// "ui: restart the daemon now": the page goes offline or polling, comes back
// to live by itself, and a job added after the restart appears.
//   node queue.mjs DAEMON_URL QUEUE_URL_PREFIX AFTER_URL
// QUEUE_URL_PREFIX + "0001.bin" etc. are slow files (they keep three jobs
// running and the rest queued); AFTER_URL is any file.
import { run, WIDE } from './browser.mjs';

const [, , , queuePrefix, afterUrl] = process.argv;
const JOBS = 1000;
const RESTART_MARKER = 'ui: restart the daemon now';

// In the page: scrolls the job list from top to bottom a little less than a
// screen at a time, waiting two frames after each step, and returns the ids
// of every row it saw, the most rows the DOM held at once, and whether the
// bottom row was fully visible at the end.
async function sweep() {
  const list = document.querySelector('[data-testid=job-list]');
  if (!list) return { error: 'no [data-testid=job-list]' };
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const ids = new Set();
  let most = 0;
  const collect = () => {
    const rows = list.querySelectorAll('[data-testid=job-row]');
    most = Math.max(most, rows.length);
    const box = list.getBoundingClientRect();
    for (const row of rows) {
      const r = row.getBoundingClientRect();
      if (r.bottom > box.top && r.top < box.bottom && r.height > 0) ids.add(row.dataset.jobId);
    }
  };
  // Rendered for the current scroll position: the rows cover the visible
  // part of the list (a loaded machine may take more than a frame or two).
  const settled = async () => {
    for (let i = 0; i < 300; ++i) {
      await frame();
      const box = list.getBoundingClientRect();
      const end = Math.min(box.bottom, box.top + list.scrollHeight - list.scrollTop);
      const shown = [...list.querySelectorAll('[data-testid=job-row]')]
        .map((row) => row.getBoundingClientRect())
        .filter((r) => r.height > 0);
      if (
        shown.length > 0 &&
        Math.min(...shown.map((r) => r.top)) <= box.top + 1 &&
        Math.max(...shown.map((r) => r.bottom)) >= end - 1
      )
        return;
    }
  };
  list.scrollTop = 0;
  await settled();
  collect();
  const step = Math.max(20, Math.floor(list.clientHeight * 0.8));
  let guard = 0;
  while (list.scrollTop + list.clientHeight < list.scrollHeight - 1 && guard++ < 5000) {
    const before = list.scrollTop;
    list.scrollTop = before + step;
    await settled();
    collect();
    if (list.scrollTop === before) break; // cannot scroll further
  }
  const box = list.getBoundingClientRect();
  const rows = [...list.querySelectorAll('[data-testid=job-row]')];
  const lowest = rows
    .map((row) => ({ id: row.dataset.jobId, rect: row.getBoundingClientRect() }))
    .filter(({ rect }) => rect.height > 0)
    .sort((a, b) => b.rect.bottom - a.rect.bottom)[0];
  return {
    ids: [...ids],
    most,
    scrollHeight: list.scrollHeight,
    clientHeight: list.clientHeight,
    atBottom: list.scrollTop + list.clientHeight >= list.scrollHeight - 1,
    lowest: lowest
      ? { id: lowest.id, visible: lowest.rect.bottom <= box.bottom + 1 && lowest.rect.top >= box.top - 1 }
      : null,
  };
}

run('queue', async (ui) => {
  const page = await ui.newPage({ viewport: WIDE });
  await page.goto(`${ui.daemon}/#/downloads`);
  await ui.until(
    page,
    'the connection indicator live',
    () => document.querySelector('[data-testid=connection]')?.dataset.state === 'live',
  );

  let ids = [];
  await ui.scenario('a 1,000-job queue renders and scrolls', async () => {
    const jobs = [];
    for (let i = 1; i <= JOBS; ++i) {
      const n = String(i).padStart(4, '0');
      jobs.push({ source: `${queuePrefix}${n}.bin`, name: `queued-${n}` });
    }
    const added = await ui.api('POST', '/api/v1/jobs', { jobs });
    ids = added.jobs.map((job) => job.id);
    if (new Set(ids).size !== JOBS) throw new Error(`the API made ${new Set(ids).size} jobs`);
    // The header counts them all (three run, the rest wait).
    await ui.until(
      page,
      `the header counting ${JOBS} active + queued jobs`,
      (total) => {
        const number = (id) =>
          Number(document.querySelector(`[data-testid=${id}]`)?.textContent.replace(/\D/g, ''));
        return number('active-count') + number('queued-count') >= total;
      },
      JOBS,
      { timeout: 60000 },
    );
    // The header's counts come from the daemon's status; the list fills from
    // the job events, which a loaded machine may still be applying: a sweep
    // that misses jobs is repeated, and the last one must show them all.
    let seen = null;
    let missing = [];
    for (let pass = 1; pass <= 3; ++pass) {
      seen = await page.evaluate(sweep);
      if (seen.error) throw new Error(seen.error);
      missing = ids.filter((id) => !seen.ids.includes(id));
      if (missing.length === 0) break;
      console.log(`ui: sweep ${pass} missed ${missing.length} job(s); sweeping again`);
    }
    if (seen.most >= 200)
      throw new Error(`the DOM held ${seen.most} job rows at once for ${JOBS} jobs: not virtualised`);
    if (seen.scrollHeight < seen.clientHeight * 10)
      throw new Error(`the list is ${seen.scrollHeight} px high for ${JOBS} jobs`);
    if (missing.length > 0)
      throw new Error(
        `scrolling never showed ${missing.length} of the ${JOBS} jobs (e.g. ${missing.slice(0, 3)})`,
      );
    if (!seen.atBottom || !seen.lowest || !seen.lowest.visible)
      throw new Error(`the bottom of the list is not reachable: ${JSON.stringify(seen.lowest)}`);
    await ui.screenshot(page, 'downloads-1000-jobs-bottom');
    console.log(
      `ui: ${JOBS} jobs: at most ${seen.most} rows in the DOM, list ${seen.scrollHeight} px`,
    );
  });

  await ui.scenario('the page recovers by itself after the daemon restarts', async () => {
    // Chromium logs the refused connections while the daemon is down.
    ui.allowConsole(/ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|WebSocket connection to .* failed|Failed to load resource/);
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid=connection]');
      window.__haulStates = [el.dataset.state];
      window.__haulSamePage = true;
      new MutationObserver(() => window.__haulStates.push(el.dataset.state)).observe(el, {
        attributes: true,
        attributeFilter: ['data-state'],
      });
    });
    console.log(RESTART_MARKER);
    const down = await ui.until(
      page,
      'the indicator leaving live while the daemon restarts',
      () => window.__haulStates.find((s) => s !== 'live'),
      undefined,
      { timeout: 60000 },
    );
    if (!['offline', 'polling', 'connecting'].includes(down))
      throw new Error(`the indicator went to "${down}"`);
    const text = await page.evaluate(() =>
      document.querySelector('[data-testid=connection]').textContent.trim(),
    );
    await ui.until(
      page,
      'the indicator back to live after the restart',
      () => {
        const states = window.__haulStates;
        const left = states.findIndex((s) => s !== 'live');
        return left >= 0 && states.slice(left).includes('live') && states.at(-1) === 'live';
      },
      undefined,
      { timeout: 60000 },
    );
    console.log(`ui: states while restarting: ${await page.evaluate(() => window.__haulStates.join(' '))} ("${text}")`);
    // A job added now shows up without a reload (found with the search box:
    // with a thousand jobs it may be far down the list).
    const after = await ui.api('POST', '/api/v1/jobs', { source: afterUrl, name: 'after-restart' });
    await page.getByLabel('Search', { exact: true }).fill('after-restart');
    await ui.watchRow(page, after.id, `job ${after.id} (added after the restart) listed`, (r) => !!r);
    const shown = await page.locator('[data-testid=job-row]').count();
    if (shown !== 1) throw new Error(`searching "after-restart" shows ${shown} rows`);
    if (!(await page.evaluate(() => window.__haulSamePage === true)))
      throw new Error('the page reloaded itself instead of reconnecting');
  });
});

// The web UI's first render and scrolling, measured in Debian's Chromium
// (headless, playwright-core from tests/node, as the browser tests launch it)
// against a running `haul serve`.
//   node ui_render.mjs BASE_URL [LOADS] [SCROLL_SECONDS]
// LOADS (default 5) fresh page loads of BASE_URL/#/downloads, each in a new
// browser context (empty cache, no cookies, no storage), after one warm-up
// load that is not counted (it pays for the browser process's own start).
// Inside the page, a script installed by addInitScript (before any of the
// page's own) records with performance.now(), i.e. from navigation start:
//   dom_ms     the first [data-testid=job-row] in the document, or the
//              "No downloads yet" state (.dl-empty[data-kind=none]) when the
//              queue is empty (MutationObserver);
//   render_ms  the end of the frame that shows it (rAF, then a
//              MessageChannel task: the frame's style, layout and paint are
//              done by then);
// plus DOMContentLoaded, first contentful paint, long tasks (> 50 ms) up to
// the render, and every resource's timing and sizes (Resource Timing:
// transferSize, encodedBodySize; Chromium's own Accept-Encoding, which
// includes gzip, the one coding the daemon serves; both are reported).
// SCROLL_SECONDS > 0: one more fresh load, then, once the page is live, the
// job list is scrolled from top to bottom over that many seconds (scrollTop
// set from each requestAnimationFrame in proportion to the time elapsed);
// frame intervals and long tasks are recorded meanwhile, and the WebSocket
// messages the page received.
// Prints one JSON line; medians over the LOADS loads.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/node/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [base, loadsText = '5', scrollText = '0'] = process.argv.slice(2);
if (!base) {
  console.error('usage: node ui_render.mjs BASE_URL [LOADS] [SCROLL_SECONDS]');
  process.exit(2);
}
const LOADS = Number(loadsText);
const SCROLL_MS = Number(scrollText) * 1000;
const CHROMIUM = process.env.HAUL_UI_CHROMIUM || '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 800 };
const DEADLINE_MS = 60000;
const url = `${base.replace(/\/$/, '')}/#/downloads`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// `promise`, or an error naming `what` after `ms`.
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// In the page, before its scripts: the probes (see above).
function probes() {
  const m = (window.__uiBench = { longtasks: [], dom: null, render: null, kind: null, rows: 0 });
  let markDone;
  m.done = new Promise((resolve) => (markDone = resolve));
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) m.longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    m.longtasks = null; // not supported
  }
  const found = () => {
    if (document.querySelector('[data-testid=job-row]')) return 'rows';
    if (document.querySelector('.dl-empty[data-kind=none]:not([hidden])')) return 'empty';
    return null;
  };
  const observer = new MutationObserver(() => {
    const kind = found();
    if (!kind) return;
    observer.disconnect();
    m.dom = performance.now();
    m.kind = kind;
    m.rows = document.querySelectorAll('[data-testid=job-row]').length;
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        m.render = performance.now();
        markDone();
      };
      channel.port2.postMessage(0);
    });
  });
  observer.observe(document, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['hidden', 'data-kind'],
  });
}

// In the page, once rendered: what the probes and the browser recorded.
function collect() {
  const m = window.__uiBench;
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const entry = (e) => ({
    name: e.name,
    type: e.initiatorType,
    start: e.startTime,
    responseStart: e.responseStart,
    end: e.responseEnd,
    transfer: e.transferSize,
    encoded: e.encodedBodySize,
    decoded: e.decodedBodySize,
  });
  return {
    dom: m.dom,
    render: m.render,
    kind: m.kind,
    rows: m.rows,
    dcl: nav ? nav.domContentLoadedEventEnd : null,
    fcp: fcp ? fcp.startTime : null,
    longtasks: m.longtasks && m.longtasks.filter((t) => t.start < m.render),
    document: nav ? entry(nav) : null,
    resources: performance.getEntriesByType('resource').map(entry),
  };
}

// In the page: scrolls the job list from top to bottom over `ms`.
async function scroll(ms) {
  const list = document.querySelector('[data-testid=job-list]');
  if (!list) return { error: 'no [data-testid=job-list]' };
  list.scrollTop = 0;
  const tasks = [];
  let observer = null;
  try {
    observer = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) tasks.push(e.duration);
    });
    observer.observe({ type: 'longtask' });
  } catch {
    /* not supported: tasks stays empty, reported as null */
  }
  const frames = [];
  let most = 0;
  const max = list.scrollHeight - list.clientHeight;
  await new Promise((resolve) => requestAnimationFrame(() => resolve())); // start on a frame
  const t0 = performance.now();
  let prev = null;
  await new Promise((resolve) => {
    const step = (t) => {
      if (prev !== null) frames.push(t - prev);
      prev = t;
      most = Math.max(most, list.querySelectorAll('[data-testid=job-row]').length);
      const p = Math.min(1, (performance.now() - t0) / ms);
      list.scrollTop = Math.round(max * p);
      if (p < 1) requestAnimationFrame(step);
      else requestAnimationFrame((t2) => (frames.push(t2 - prev), resolve())); // the last frame's end
    };
    requestAnimationFrame(step);
  });
  // Long task entries arrive after the task: give the observer a moment.
  await new Promise((resolve) => setTimeout(resolve, 100));
  if (observer) observer.disconnect();
  const rows = [...list.querySelectorAll('[data-testid=job-row]')];
  const box = list.getBoundingClientRect();
  const lastVisible = rows.some((row) => {
    const r = row.getBoundingClientRect();
    return r.height > 0 && r.bottom <= box.bottom + 1 && r.bottom >= box.bottom - r.height - 1;
  });
  return {
    seconds: (performance.now() - t0) / 1000,
    frames,
    longtasks: observer ? tasks : null,
    most,
    scrollHeight: list.scrollHeight,
    atBottom: list.scrollTop + list.clientHeight >= list.scrollHeight - 1 && lastVisible,
    active: Number(document.querySelector('[data-testid=active-count]')?.textContent.replace(/\D/g, '')),
    queued: Number(document.querySelector('[data-testid=queued-count]')?.textContent.replace(/\D/g, '')),
  };
}

const median = (values) => {
  const v = values.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const percentile = (values, p) => {
  const v = [...values].sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)] : null;
};
const round = (x, digits = 1) => (x === null ? null : Number(x.toFixed(digits)));

// launch() gives the browser a fresh profile of its own (a temporary
// user-data-dir, removed on close); each load then gets a new context.
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  timeout: DEADLINE_MS,
});
const problems = []; // console errors/warnings, page errors
const encodings = new Map(); // asset path -> content-encoding
let acceptEncoding = null;

// One load in a fresh context; returns the page (still open) and its figures.
async function load(keepOpen = false) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  page.setDefaultTimeout(DEADLINE_MS);
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  const headerReads = [];
  page.on('response', (response) => {
    const p = new URL(response.url()).pathname;
    if (p !== '/' && !p.startsWith('/assets/')) return;
    encodings.set(p, response.headers()['content-encoding'] || 'identity');
    // The headers as sent (Accept-Encoding is added by the network stack).
    // allHeaders() waits for the network stack's own report, which may never come: not for long.
    if (acceptEncoding === null)
      headerReads.push(
        within(response.request().allHeaders(), 2000, 'request headers').then(
          (h) => (acceptEncoding ??= h['accept-encoding'] ?? ''),
          () => {},
        ),
      );
  });
  const ws = { messages: 0 };
  page.on('websocket', (socket) => socket.on('framereceived', () => ++ws.messages));
  await page.addInitScript(probes);
  await page.goto(url, { waitUntil: 'load' });
  try {
    await within(page.evaluate(() => window.__uiBench.done), DEADLINE_MS, 'the first render');
  } catch (error) {
    const seen = await page
      .evaluate(() => ({ probe: window.__uiBench, main: document.getElementById('main')?.innerText.slice(0, 300) }))
      .catch((e) => e.message);
    throw new Error(`${error.message}; page: ${JSON.stringify(seen)}; problems: ${problems.join('; ')}`);
  }
  const figures = await page.evaluate(collect);
  await Promise.allSettled(headerReads);
  if (!keepOpen) {
    await context.close();
    return { figures };
  }
  return { figures, page, context, ws };
}

const summarise = (runs) => {
  const api = (r) => r.resources.find((e) => new URL(e.name).pathname === '/api/v1/jobs');
  // The document and every /assets/ file once (icon.svg is fetched twice: favicon and <img>).
  const assets = (r) => [
    r.document,
    ...new Map(
      r.resources.filter((e) => new URL(e.name).pathname.startsWith('/assets/')).map((e) => [e.name, e]),
    ).values(),
  ];
  const sum = (list, key) => list.reduce((s, e) => s + (e ? e[key] || 0 : 0), 0);
  const firstAsset = runs[0] ? assets(runs[0]) : [];
  const jobsCall = runs.map(api);
  return {
    loads: runs.length,
    kind: [...new Set(runs.map((r) => r.kind))].join(','),
    rows: median(runs.map((r) => r.rows)),
    render_ms: round(median(runs.map((r) => r.render))),
    render_all_ms: runs.map((r) => round(r.render)),
    dom_ms: round(median(runs.map((r) => r.dom))),
    dcl_ms: round(median(runs.map((r) => r.dcl))),
    assets_done_ms: round(median(runs.map((r) => Math.max(...assets(r).map((e) => e.end))))),
    fcp_ms: round(median(runs.map((r) => r.fcp))),
    // GET /api/v1/jobs as the page made it: sent at, answer complete at, bytes.
    jobs_request_start_ms: round(median(jobsCall.map((e) => e && e.start))),
    jobs_request_end_ms: round(median(jobsCall.map((e) => e && e.end))),
    jobs_request_ms: round(median(jobsCall.map((e) => e && e.end - e.start))),
    jobs_first_byte_ms: round(median(jobsCall.map((e) => e && e.responseStart - e.start))),
    jobs_bytes: median(jobsCall.map((e) => e && e.encoded)),
    // From the end of that answer to the frame that shows the rows.
    after_jobs_ms: round(median(runs.map((r, i) => jobsCall[i] && r.render - jobsCall[i].end))),
    longtasks: median(runs.map((r) => (r.longtasks ? r.longtasks.length : NaN))),
    longtask_ms: round(median(runs.map((r) => (r.longtasks ? r.longtasks.reduce((s, t) => s + t.duration, 0) : NaN)))),
    longtask_max_ms: round(median(runs.map((r) => (r.longtasks ? Math.max(0, ...r.longtasks.map((t) => t.duration)) : NaN)))),
    assets: firstAsset.length,
    assets_transfer: sum(firstAsset, 'transfer'),
    assets_encoded: sum(firstAsset, 'encoded'),
    assets_decoded: sum(firstAsset, 'decoded'),
    assets_list: firstAsset.map((e) => `${new URL(e.name).pathname} ${e.encoded}/${e.decoded}`),
  };
};

let result;
try {
  await load(); // warm-up, not counted
  const runs = [];
  for (let i = 0; i < LOADS; ++i) runs.push((await load()).figures);
  result = summarise(runs);
  if (SCROLL_MS > 0) {
    const { page, context, ws } = await load(true);
    // Live (WebSocket up) and every job in the store before scrolling.
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      const ready = await page.evaluate(() => {
        const live = document.querySelector('[data-testid=connection]')?.dataset.state === 'live';
        const summary = document.querySelector('.dl-summary')?.textContent || '';
        return live && /\d/.test(summary) ? summary : null;
      });
      if (ready) break;
      if (Date.now() > deadline) throw new Error('the page did not go live');
      await sleep(100);
    }
    await sleep(1000); // settle
    // How often the page fetched the whole list since it loaded.
    const jobsGets = await page.evaluate(
      () =>
        performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/api/v1/jobs')
          .length,
    );
    const before = ws.messages;
    const s = await within(page.evaluate(scroll, SCROLL_MS), SCROLL_MS + DEADLINE_MS, 'the scroll');
    if (s.error) throw new Error(s.error);
    const frames = s.frames;
    result.scroll = {
      seconds: round(s.seconds, 2),
      frames: frames.length,
      frame_p50_ms: round(percentile(frames, 50)),
      frame_p95_ms: round(percentile(frames, 95)),
      frame_max_ms: round(Math.max(...frames)),
      frames_over_50ms: frames.filter((f) => f > 50).length,
      longtasks: s.longtasks ? s.longtasks.length : null,
      longtask_max_ms: s.longtasks ? round(Math.max(0, ...s.longtasks)) : null,
      ws_messages: ws.messages - before,
      jobs_gets_before: jobsGets,
      rows_in_dom_max: s.most,
      list_px: s.scrollHeight,
      reached_bottom: s.atBottom,
      header_active: s.active,
      header_queued: s.queued,
    };
    await context.close();
  }
} finally {
  await browser.close();
}
result.accept_encoding = acceptEncoding;
result.encodings = [...new Set(encodings.values())].join(',');
result.problems = [...new Set(problems)].slice(0, 10);
console.log(JSON.stringify(result));

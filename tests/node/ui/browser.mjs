// Shared harness of the web UI's browser tests (tests/integration/web_ui_test.cpp
// runs the scripts next to this file). playwright-core drives Debian's Chromium
// (/usr/bin/chromium, headless, a fresh profile under the temporary directory);
// no browser is ever downloaded.
//
// A script calls run(title, async (ui) => { ... }) once: one Chromium launch,
// several scenarios (ui.scenario(name, fn)) in a row. Every console error or
// warning and every uncaught page error fails the scenario it happens in,
// unless the scenario allowed that message (ui.allowConsole(regex), for the
// network errors Chromium itself logs while the daemon is down). Conditions
// are awaited by polling with generous deadlines (ui.until, locator.waitFor),
// never by sleeping. The script exits 0 when every scenario passed; otherwise
// it prints "ui: FAIL [scenario] reason" as its last line and exits 1.
//
// Environment: HAUL_UI_ARTIFACTS (folder for screenshots; default a folder
// under the temporary directory), HAUL_UI_CHROMIUM (default /usr/bin/chromium),
// HAUL_UI_DEADLINE_MS (one condition's deadline, default 30000),
// HAUL_UI_SCRIPT_DEADLINE_MS (the whole script's, default 150000), HAUL_UI_VERBOSE
// (print every console message seen, also when all passed).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.HAUL_UI_CHROMIUM || '/usr/bin/chromium';
export const DEADLINE_MS = Number(process.env.HAUL_UI_DEADLINE_MS || 30000);
const SCRIPT_DEADLINE_MS = Number(process.env.HAUL_UI_SCRIPT_DEADLINE_MS || 150000);
export const ARTIFACTS =
  process.env.HAUL_UI_ARTIFACTS || path.join(os.tmpdir(), 'haul-ui-artifacts');

export const WIDE = { width: 1280, height: 800 };
export const NARROW = { width: 390, height: 844 };

const log = (line) => process.stdout.write(`${line}\n`);
// One line, without the ANSI colours of Playwright's call logs.
const oneLine = (text) =>
  String(text)
    .replace(/\x1b\[[0-9;]*m/g, '')
    .replace(/\s+/g, ' ')
    .trim();

// Replaces window.WebSocket with one that never connects (an error, then a
// close with 1006), before any of the page's scripts run; counts the attempts
// in window.__haulBlockedSockets.
function blockWebSocket() {
  class BlockedWebSocket extends EventTarget {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    constructor(url) {
      super();
      this.url = String(url);
      this.readyState = 0;
      this.protocol = '';
      this.extensions = '';
      this.bufferedAmount = 0;
      this.binaryType = 'blob';
      this.onopen = this.onmessage = this.onerror = this.onclose = null;
      window.__haulBlockedSockets = (window.__haulBlockedSockets || 0) + 1;
      setTimeout(() => {
        this.readyState = 3;
        const error = new Event('error');
        if (typeof this.onerror === 'function') this.onerror(error);
        this.dispatchEvent(error);
        const close = new CloseEvent('close', { code: 1006, reason: '', wasClean: false });
        if (typeof this.onclose === 'function') this.onclose(close);
        this.dispatchEvent(close);
      }, 20);
    }
    send() {
      throw new DOMException('WebSocket is not open', 'InvalidStateError');
    }
    close() {}
  }
  for (const name of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'])
    Object.defineProperty(BlockedWebSocket.prototype, name, { value: BlockedWebSocket[name] });
  window.WebSocket = BlockedWebSocket;
}

class ScenarioFailure extends Error {}

class Ui {
  constructor(context, daemon, profile) {
    this.context = context;
    this.daemon = daemon.replace(/\/$/, '');
    this.profile = profile;
    this.current = '(setup)';
    this.problems = []; // console errors/warnings and page errors not allowed
    this.allowed = [];
    this.pages = [];
    this.seenConsole = []; // every console line, for the failure report
  }

  // A new tab: `colorScheme` 'light' | 'dark', `viewport` WIDE | NARROW,
  // `blockWebSocket` true for a page whose WebSocket never connects.
  async newPage({ colorScheme = 'light', viewport = WIDE, blockWebSocket: block = false } = {}) {
    const page = await this.context.newPage();
    this.pages.push(page);
    page.setDefaultTimeout(DEADLINE_MS);
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme });
    if (block) await page.addInitScript(blockWebSocket);
    page.on('console', (message) => {
      const type = message.type();
      const where = message.location();
      const text = `console.${type}: ${oneLine(message.text())}${
        where && where.url ? ` (${where.url}:${where.lineNumber})` : ''
      }`;
      this.seenConsole.push(`[${this.current}] ${text}`);
      if (type === 'error' || type === 'warning') this.problem(text);
    });
    page.on('pageerror', (error) => {
      const text = `uncaught ${oneLine(error.stack || error.message || error)}`;
      this.seenConsole.push(`[${this.current}] ${text}`);
      this.problem(text);
    });
    page.on('crash', () => this.problem('the page crashed'));
    // A confirm() before a destructive action: accept it like a user would,
    // and say so in the log.
    page.on('dialog', (dialog) => {
      this.seenConsole.push(`[${this.current}] dialog ${dialog.type()}: ${dialog.message()}`);
      dialog.accept().catch(() => {});
    });
    return page;
  }

  problem(text) {
    if (this.allowed.some((pattern) => pattern.test(text))) return;
    this.problems.push(`[${this.current}] ${text}`);
  }

  // Until the current scenario ends, console messages matching `pattern` are
  // expected (Chromium logs refused connections while the daemon is down).
  allowConsole(pattern) {
    this.allowed.push(pattern);
  }

  async scenario(name, body) {
    this.current = name;
    this.allowed = [];
    const started = Date.now();
    try {
      await body();
    } catch (error) {
      if (error instanceof ScenarioFailure) throw error;
      throw new ScenarioFailure(`[${name}] ${oneLine(error.message || error).slice(0, 600)}`);
    }
    this.checkConsole(name);
    this.allowed = [];
    log(`ui: ok [${name}] ${Date.now() - started} ms`);
  }

  checkConsole(name) {
    if (this.problems.length === 0) return;
    const first = this.problems[0];
    throw new ScenarioFailure(
      `[${name}] ${this.problems.length} console error(s)/warning(s), the first: ${first}`,
    );
  }

  // Polls `fn(arg)` in the page every 100 ms until it returns a truthy value
  // (which is returned) or `timeout` passes; then fails with `what` and the
  // last value seen. page.evaluate is not subject to the page's CSP.
  async until(page, what, fn, arg, { timeout = DEADLINE_MS, every = 100 } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      let value = null;
      try {
        value = await page.evaluate(fn, arg);
        last = value;
      } catch (error) {
        // A navigation in between destroys the context: try again.
        if (!/context was destroyed|navigat/i.test(error.message)) throw error;
        last = `(evaluate failed: ${oneLine(error.message).slice(0, 200)})`;
      }
      if (value) return value;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${Math.round(timeout / 1000)} s waiting for ${what}; last: ${oneLine(
            JSON.stringify(last),
          ).slice(0, 300)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, every));
    }
  }

  // The same for a condition checked in Node (e.g. through the API).
  async untilNode(what, fn, { timeout = DEADLINE_MS, every = 100 } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      last = await fn();
      if (last) return last;
      if (Date.now() > deadline)
        throw new Error(`timed out after ${Math.round(timeout / 1000)} s waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, every));
    }
  }

  // Polls job `id`'s row (readJobRow below) until `check(row)` holds in
  // Node; returns the row with `seen`: every percent its bar showed so far
  // (kept across calls for the same id).
  async watchRow(page, id, what, check, options = {}) {
    const seen = (this.seenPercents ??= new Map());
    if (!seen.has(id)) seen.set(id, []);
    let last = null;
    try {
      return await this.untilNode(
        what,
        async () => {
          last = await page.evaluate(readJobRow, id);
          if (!last) return null;
          seen.get(id).push(last.percent);
          return check(last) ? { ...last, seen: seen.get(id) } : null;
        },
        options,
      );
    } catch (error) {
      throw new Error(`${error.message}; last row: ${last ? JSON.stringify(last) : 'not in the DOM'}`);
    }
  }

  // The daemon's API from Node: JSON in and out; throws on a non-2xx answer.
  async api(method, route, body) {
    const response = await fetch(this.daemon + route, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${oneLine(text)}`);
    return text ? JSON.parse(text) : null;
  }

  async screenshot(page, name) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false, animations: 'disabled' });
    return file;
  }
  // The view in `page` in light and dark, wide and narrow: VIEW-light-wide.png
  // etc. Toasts are dismissed first (with their own buttons) so that they do
  // not hide the view.
  async screenshots(page, view) {
    const dismiss = page.getByRole('button', { name: 'Dismiss', exact: true });
    for (let i = 0; i < 10 && (await dismiss.count()) > 0; ++i)
      await dismiss.first().click({ timeout: 5000 }).catch(() => {}); // it may leave by itself
    if ((await dismiss.count()) > 0) throw new Error('toasts stay after "Dismiss"');
    for (const [scheme, viewport, width] of [
      ['light', WIDE, 'wide'],
      ['dark', WIDE, 'wide'],
      ['light', NARROW, 'narrow'],
      ['dark', NARROW, 'narrow'],
    ]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize(viewport);
      await this.screenshot(page, `${view}-${scheme}-${width}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize(WIDE);
  }
}

// The row of job `id` in the Downloads view.
export const jobRow = (page, id) => page.locator(`[data-testid=job-row][data-job-id="${id}"]`);

// In the page: the job row's own progress bar value (not a file row's), its
// state and its fields; null while the row is not in the DOM.
export function readJobRow(id) {
  const row = document.querySelector(`[data-testid=job-row][data-job-id="${CSS.escape(id)}"]`);
  if (!row) return null;
  const bar = [...row.querySelectorAll('[role=progressbar]')].find(
    (el) => !el.closest('[data-testid=file-row]'),
  );
  const field = (name) => {
    const el = row.querySelector(`[data-field=${name}]`);
    return el ? el.textContent.trim() : null;
  };
  return {
    state: row.dataset.state,
    percent: bar ? Number(bar.getAttribute('aria-valuenow')) : null,
    stateText: field('state'),
    name: field('name'),
    source: field('source'),
    bytes: field('bytes'),
    error: field('error'),
    actions: [...row.querySelectorAll('[data-action]')]
      .filter((el) => el.offsetParent !== null && !el.hidden)
      .map((el) => el.dataset.action),
  };
}

export async function run(title, body) {
  const started = Date.now();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'haul-ui-profile-'));
  const daemon = process.argv[2];
  let ui = null;
  let context = null;
  const fail = async (reason) => {
    if (ui) {
      for (const line of ui.seenConsole.slice(-40)) process.stderr.write(`  ${line}\n`);
      for (const [i, page] of ui.pages.entries()) {
        if (page.isClosed()) continue;
        const safe = ui.current.replace(/[^A-Za-z0-9_-]+/g, '_');
        const file = await ui.screenshot(page, `FAILED-${title}-${safe}-${i}`).catch(() => null);
        if (file) process.stderr.write(`  screenshot: ${file}\n`);
      }
    }
    process.stderr.write(`ui: FAIL ${oneLine(reason)}\n`);
    await context?.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(1);
  };
  const watchdog = setTimeout(
    () => fail(`[${ui ? ui.current : '(launch)'}] ${title}: the script ran out of its ${
      SCRIPT_DEADLINE_MS / 1000
    } s`),
    SCRIPT_DEADLINE_MS,
  );
  // A failure screenshot of an earlier run would mislead.
  if (fs.existsSync(ARTIFACTS))
    for (const name of fs.readdirSync(ARTIFACTS))
      if (name.startsWith(`FAILED-${title}-`)) fs.rmSync(path.join(ARTIFACTS, name), { force: true });
  try {
    if (!daemon) throw new Error(`usage: node ${path.basename(process.argv[1])} DAEMON_URL ...`);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
      ],
      viewport: WIDE,
      timeout: DEADLINE_MS,
    });
    context.setDefaultTimeout(DEADLINE_MS);
    // The persistent context opens one blank tab; scenarios open their own.
    for (const page of context.pages()) await page.close();
    ui = new Ui(context, daemon, profile);
    await body(ui);
    ui.checkConsole(ui.current);
  } catch (error) {
    clearTimeout(watchdog);
    await fail(error instanceof ScenarioFailure ? error.message : `[${ui ? ui.current : '(launch)'}] ${
      oneLine(error.stack || error.message || error).slice(0, 800)
    }`);
    return;
  }
  clearTimeout(watchdog);
  if (process.env.HAUL_UI_VERBOSE) for (const line of ui.seenConsole) log(`  ${line}`);
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
  log(`ui: ${title}: all scenarios passed in ${Date.now() - started} ms`);
  process.exit(0);
}

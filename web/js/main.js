// The page: header totals and connection state, hash routing to the views,
// toasts. Views are modules under views/ exporting mount(container, ctx).
import { api } from './api.js';
import { live } from './live.js';
import { jobs } from './store.js';
import { h } from './dom.js';
import { formatSpeed } from './format.js';

const VIEWS = { downloads: 'Downloads', add: 'Add', resources: 'Resources', models: 'Models', instances: 'Instances' };
const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Polling every 2 s (live updates unavailable)',
  offline: 'Daemon unreachable, retrying',
};

const main = document.getElementById('main');
const toasts = document.querySelector('.toasts');
const connection = document.querySelector('[data-testid=connection]');
const speedEl = document.querySelector('[data-testid=overall-speed]');
const activeEl = document.querySelector('[data-testid=active-count]');
const queuedEl = document.querySelector('[data-testid=queued-count]');

function toast(message, kind = 'info') {
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : null }, h('span', null, String(message)), close);
  const remove = () => el.remove();
  close.addEventListener('click', remove);
  toasts.append(el);
  while (toasts.children.length > 4) toasts.firstElementChild.remove();
  setTimeout(remove, kind === 'error' ? 9000 : 5000);
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

const ctx = { api, live, jobs, navigate, toast };

// ---- header -----------------------------------------------------------------
function showConnection(state) {
  connection.dataset.state = state;
  document.body.dataset.connection = state;
  connection.querySelector('.connection-text').textContent = CONNECTION_TEXT[state] || state;
}

function updateTotals() {
  let speed = 0;
  let active = 0;
  let queued = 0;
  for (const job of jobs.all()) {
    if (job.state === 'running') {
      active++;
      speed += job.speed || 0;
    } else if (job.state === 'queued') {
      queued++;
    }
  }
  const s = formatSpeed(speed) || '0 B/s';
  if (speedEl.textContent !== s) speedEl.textContent = s;
  if (activeEl.textContent !== String(active)) activeEl.textContent = active;
  if (queuedEl.textContent !== String(queued)) queuedEl.textContent = queued;
}

// ---- routing ----------------------------------------------------------------
let current = null;
let seq = 0;

function viewName() {
  const name = location.hash.replace(/^#\/?/, '').split(/[?/]/)[0];
  return Object.hasOwn(VIEWS, name) ? name : 'downloads';
}

async function route(byUser = false) {
  const name = viewName();
  if (current && current.name === name) return;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${VIEWS[name]} · haul`;
  const my = ++seq;
  if (current && current.view) {
    try {
      current.view.unmount();
    } catch (err) {
      console.error(err);
    }
  }
  current = { name, view: null };
  const container = h('div', { class: 'view-root', 'data-view': name });
  main.replaceChildren(container);
  let mod;
  try {
    mod = await import(`./views/${name}.js`);
  } catch (err) {
    if (my !== seq) return;
    container.append(h('div', { class: 'empty' }, `The ${VIEWS[name]} view could not be loaded.`));
    console.error(err);
    return;
  }
  if (my !== seq) return;
  current.view = mod.mount(container, ctx) || null;
  if (byUser) {
    const heading = container.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }
}

window.addEventListener('hashchange', () => route(true));
live.on('connection', showConnection);
live.on('jobs', updateTotals);
showConnection(live.state);
route();
live.start();

// Resources view: the library's resource cards grouped by folder, an instance
// selector and "Install Selected", which posts seed 000's body to
// POST /downloads/queue. The instance's install jobs are then shown live:
// from the job store while the live connection is up, else by polling
// GET /downloads/status?instance_id=N every 2 s (seed 000).
import { h, placeInOrder } from '../dom.js';
import { formatSpeed } from '../format.js';

const POLL_MS = 2000;
const MAX_JOBS = 50;
const MAX_FINISHED = 5;
const INSTANCE_KEY = 'haul.resources.instance';

// Seed 000's status words, as haul's states.
const SEED_STATE = { PENDING: 'queued', RUNNING: 'running', COMPLETE: 'completed', FAILED: 'failed' };
const FINISHED = new Set(['completed', 'failed', 'cancelled']);

// The stages of a card's commands (civitdl and the other tools' parsers).
const STAGE_WORDS = { model: 'downloading the model', download: 'downloading', images: 'downloading preview images', cache: 'checking the cache',
  verify: 'verifying', retrying: 'waiting to retry' };
const stageText = (stage) => STAGE_WORDS[stage] || stage || '';

function folderOf(path) {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function words(state) {
  return { queued: 'Queued', running: 'Running', retrying: 'Retrying', paused: 'Paused', completed: 'Completed',
    failed: 'Failed', cancelled: 'Cancelled' }[state] || state;
}

// What a card downloads: the URLs of its commands (file name and host), and
// the folder under $UI_HOME it writes to when the command says so.
function downloadsOf(card) {
  const out = [];
  for (const command of card.commands || []) {
    const urls = command.match(/https?:\/\/[^\s"'\\]+/g) || [];
    const folder = /\$\{?UI_HOME\}?"?\/?([^\s"']*)/.exec(command);
    for (const url of urls) {
      let name = url;
      let host = '';
      try {
        const parsed = new URL(url);
        host = parsed.hostname;
        const last = parsed.pathname.split('/').filter(Boolean).pop();
        name = last ? decodeURIComponent(last) : parsed.hostname;
        const version = parsed.searchParams.get('modelVersionId');
        if (host.endsWith('civitai.com') && version) name = `model ${last || ''} version ${version}`.replace('  ', ' ');
      } catch { /* keep the text */ }
      let where = folder ? folder[1].replace(/\/$/, '') : '';
      if (where.endsWith(`/${name}`)) where = where.slice(0, -name.length - 1);  // wget -O DIR/FILE
      out.push({ name, host, folder: where });
    }
  }
  return out;
}

export function mount(container, ctx) {
  let alive = true;
  let cards = [];
  let instances = [];
  const byPath = new Map();        // card path -> {card, checkbox, element}
  const cardOfCommand = new Map(); // command text -> card name (for the stage text)
  const jobRows = new Map();       // job id -> row parts
  const queued = new Map();        // job id -> {paths, entry} queued from this page
  let statusEntries = new Map();   // job id -> last /downloads/status entry
  let connection = (ctx.live && (ctx.live.state || ctx.live.connection)) || 'connecting';
  let pollTimer = 0;
  let counter = 0;

  const instanceSelect = h('select', { id: 'res-instance' }, h('option', { value: '' }, 'Choose an instance…'));
  const install = h('button', { type: 'button', class: 'btn btn-primary', disabled: true, on: { click: onInstall } },
    'Install Selected');
  const selectedText = h('span', { class: 'muted res-selected', 'aria-live': 'polite' }, 'Nothing selected');
  const filter = h('input', { type: 'search', id: 'res-filter', placeholder: 'Filter cards', autocomplete: 'off' });
  const formError = h('p', { class: 'field-error', role: 'alert', 'data-testid': 'form-error', hidden: true });
  const noInstances = h('p', { class: 'res-note muted', hidden: true },
    'No instance yet: ', h('a', { href: '#/instances' }, 'add one'), ' to install cards on it.');
  const groupsBox = h('div', { class: 'res-groups' }, h('p', { class: 'empty' }, 'Loading resource cards…'));
  const jobsList = h('ul', { class: 'res-jobs', 'aria-live': 'polite' });
  const jobsSection = h('section', { class: 'res-installs card', 'aria-labelledby': 'res-installs-title', hidden: true },
    h('div', { class: 'res-installs-head' },
      h('h2', { id: 'res-installs-title' }, 'Installs'),
      h('span', { class: 'muted res-mode' })),
    jobsList);
  const modeText = jobsSection.querySelector('.res-mode');

  container.append(
    h('section', { class: 'view view-resources', 'aria-labelledby': 'res-title' },
      h('div', { class: 'view-head' },
        h('h1', { id: 'res-title' }, 'Resources'),
        h('div', { class: 'toolbar res-toolbar' },
          h('div', { class: 'field field-inline' },
            h('label', { for: 'res-instance' }, 'Instance'),
            instanceSelect),
          h('div', { class: 'field field-inline' },
            h('label', { for: 'res-filter', class: 'visually-hidden' }, 'Filter cards'),
            filter),
          install,
          selectedText)),
      noInstances,
      formError,
      jobsSection,
      groupsBox));

  // ---- selection -----------------------------------------------------------

  function selectedPaths() {
    const out = [];
    for (const [path, entry] of byPath) if (entry.checkbox.checked) out.push(path);
    return out;
  }

  function updateSelection() {
    const n = selectedPaths().length;
    selectedText.textContent = n === 0 ? 'Nothing selected' : n === 1 ? '1 card selected' : `${n} cards selected`;
    install.disabled = n === 0 || !instanceSelect.value;
    for (const group of groupsBox.querySelectorAll('.res-group')) {
      const boxes = [...group.querySelectorAll('input.res-check:not(:disabled)')];
      const all = group.querySelector('input.res-all');
      if (!all) continue;
      const on = boxes.filter((box) => box.checked).length;
      all.disabled = boxes.length === 0;
      all.checked = boxes.length > 0 && on === boxes.length;
      all.indeterminate = on > 0 && on < boxes.length;
    }
  }

  // ---- cards ---------------------------------------------------------------

  function cardElement(card) {
    const id = `res-card-${++counter}`;
    const checkbox = h('input', { type: 'checkbox', id, class: 'res-check', 'aria-describedby': `${id}-desc` });
    if (card.error) checkbox.disabled = true;
    checkbox.addEventListener('change', updateSelection);
    const files = downloadsOf(card);
    const list = h('ul', { class: 'res-files', id: `${id}-desc` });
    for (const file of files) {
      list.append(h('li', {},
        h('span', { class: 'res-file-name' }, file.name),
        h('span', { class: 'muted res-file-where' },
          [file.host, file.folder ? `→ ${file.folder}` : ''].filter(Boolean).join(' '))));
    }
    if (files.length === 0 && (card.commands || []).length) {
      list.append(h('li', { class: 'muted' }, `${card.commands.length} command${card.commands.length === 1 ? '' : 's'}`));
    }
    const commands = h('details', { class: 'res-commands' },
      h('summary', {}, `Commands (${(card.commands || []).length})`),
      h('ol', { class: 'res-command-list' }, ...(card.commands || []).map((command) => h('li', {}, h('code', {}, command)))));
    const element = h('li', { class: 'card res-card', 'data-testid': 'card', 'data-path': card.path },
      h('div', { class: 'res-card-head' },
        checkbox,
        h('label', { for: id, class: 'res-name' }, card.name || card.path),
        card.type && card.type !== folderOf(card.path) ? h('span', { class: 'badge res-type' }, card.type) : ''),
      card.description ? h('p', { class: 'res-desc muted' }, card.description) : '',
      card.error ? h('p', { class: 'res-error' }, card.error) : list,
      h('div', { class: 'res-card-foot' },
        h('span', { class: 'muted mono res-path' }, card.path),
        (card.commands || []).length ? commands : ''));
    byPath.set(card.path, { card, checkbox, element });
    for (const command of card.commands || []) cardOfCommand.set(command, card.name || card.path);
    return element;
  }

  function renderCards() {
    byPath.clear();
    groupsBox.replaceChildren();
    if (cards.length === 0) {
      groupsBox.append(h('p', { class: 'empty' },
        'No resource cards in the library. Put markdown cards with a "# Download" bash block in the library folder (haul serve --library DIR).'));
      return;
    }
    const groups = new Map();
    for (const card of cards) {
      const folder = folderOf(card.path);
      if (!groups.has(folder)) groups.set(folder, []);
      groups.get(folder).push(card);
    }
    const names = [...groups.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)));
    for (const folder of names) {
      const title = folder || 'Other';
      const headingId = `res-group-${++counter}`;
      const all = h('input', { type: 'checkbox', class: 'res-all', id: `${headingId}-all`, 'aria-describedby': headingId });
      const list = h('ul', { class: 'res-cards' });
      for (const card of groups.get(folder)) list.append(cardElement(card));
      all.addEventListener('change', () => {
        for (const box of list.querySelectorAll('input.res-check:not(:disabled)')) {
          if (box.closest('.res-card').hidden) continue;
          box.checked = all.checked;
        }
        updateSelection();
      });
      groupsBox.append(h('section', { class: groups.get(folder).length > 1 ? 'res-group res-group-wide' : 'res-group', 'aria-labelledby': headingId },
        h('div', { class: 'res-group-head' },
          h('h2', { id: headingId }, title),
          h('span', { class: 'muted res-group-count' }, String(groups.get(folder).length)),
          h('span', { class: 'res-all-wrap' }, all, h('label', { for: `${headingId}-all` }, 'Select all'))),
        list));
    }
    applyFilter();
    updateSelection();
  }

  function applyFilter() {
    const needle = filter.value.trim().toLowerCase();
    for (const group of groupsBox.querySelectorAll('.res-group')) {
      let shown = 0;
      for (const li of group.querySelectorAll('.res-card')) {
        const entry = byPath.get(li.dataset.path);
        const text = `${entry.card.name} ${entry.card.path} ${entry.card.description || ''} ${(entry.card.commands || []).join(' ')}`.toLowerCase();
        li.hidden = needle !== '' && !text.includes(needle);
        if (!li.hidden) shown += 1;
      }
      group.hidden = shown === 0;
    }
  }
  filter.addEventListener('input', applyFilter);

  // ---- instances -----------------------------------------------------------

  function renderInstances() {
    const keep = instanceSelect.value;
    instanceSelect.replaceChildren(h('option', { value: '' }, instances.length ? 'Choose an instance…' : 'No instances'));
    for (const instance of instances) {
      instanceSelect.append(h('option', { value: instance.id }, `${instance.id} (${instance.host || instance.ssh_command})`));
    }
    let remembered = '';
    try { remembered = localStorage.getItem(INSTANCE_KEY) || ''; } catch { /* no storage */ }
    if (keep && instances.some((i) => i.id === keep)) instanceSelect.value = keep;
    else if (remembered && instances.some((i) => i.id === remembered)) instanceSelect.value = remembered;
    else if (instances.length === 1) instanceSelect.value = instances[0].id;
    noInstances.hidden = instances.length > 0;
    instanceSelect.disabled = instances.length === 0;
  }

  instanceSelect.addEventListener('change', () => {
    try { localStorage.setItem(INSTANCE_KEY, instanceSelect.value); } catch { /* no storage */ }
    formError.hidden = true;
    updateSelection();
    jobRows.clear();
    jobsList.replaceChildren();
    statusEntries = new Map();
    refreshJobs();
  });

  // ---- install -------------------------------------------------------------

  async function onInstall() {
    const paths = selectedPaths();
    const instance = instances.find((i) => i.id === instanceSelect.value);
    if (!instance || paths.length === 0) return;
    formError.hidden = true;
    install.disabled = true;
    install.setAttribute('aria-busy', 'true');
    try {
      const body = {
        // Seed 000 sends the instance number as a number.
        instance_id: /^\d{1,15}$/.test(instance.id) ? Number(instance.id) : instance.id,
        ssh_connection: instance.ssh_command,
        resource_paths: paths,
      };
      const entry = await ctx.api.post('/downloads/queue', body);
      if (!alive) return;
      queued.set(entry.id, { paths, entry });
      statusEntries.set(entry.id, entry);
      for (const path of paths) byPath.get(path).checkbox.checked = false;
      ctx.toast(paths.length === 1 ? 'Install queued: 1 card' : `Install queued: ${paths.length} cards`, 'ok');
      renderJobs();
      schedulePoll();
    } catch (error) {
      if (!alive) return;
      formError.textContent = error && error.status === 0
        ? `The daemon is unreachable: ${error.message}` : `Install failed: ${(error && error.message) || error}`;
      formError.hidden = false;
    } finally {
      install.removeAttribute('aria-busy');
      updateSelection();
    }
  }

  // ---- install jobs --------------------------------------------------------

  // One job's row data, from the store (live) or the seed status entry.
  // Where a job of cards is: the card of its current command, "(2/3)" among them.
  function placeOf(stored) {
    const items = (stored && stored.items) || [];
    const current = items.find((item) => item.state === 'running') ||
      items.find((item) => item.state !== 'completed' && item.state !== 'skipped');
    if (!current) return { where: '', stage: '' };
    const card = cardOfCommand.get(current.source);
    const cardsOf = [...new Set(items.map((item) => cardOfCommand.get(item.source)).filter(Boolean))];
    const position = card && cardsOf.length > 1 ? ` (${cardsOf.indexOf(card) + 1}/${cardsOf.length})` : '';
    return { where: card ? card + position : '', stage: current.stage || '' };
  }

  function jobView(id) {
    const stored = ctx.jobs && typeof ctx.jobs.get === 'function' ? ctx.jobs.get(id) : null;
    const entry = statusEntries.get(id);
    const place = placeOf(stored);
    if (stored && (connection === 'live' || !entry)) {
      return {
        id, name: stored.name || id, state: stored.state, percent: Number(stored.progress) || 0,
        speed: stored.speed > 0 ? formatSpeed(stored.speed) : '',
        stage: [place.where, stageText(place.stage)].filter(Boolean).join(' · '), where: place.where,
        error: stored.error ? stored.error.message : '', created: stored.created_at || '',
        attempt: stored.attempts || 0, attempts: stored.max_attempts || 0,
      };
    }
    if (entry) {
      // Seed 000's entry while polling; the card's name from the store's items.
      let state = SEED_STATE[entry.status] || String(entry.status || '').toLowerCase();
      if (entry.error === 'cancelled') state = 'cancelled';
      if (entry.progress && entry.progress.stage === 'retrying') state = 'retrying';
      const paths = entry.resource_paths || (queued.get(id) || {}).paths || [];
      const names = paths.map((p) => (byPath.get(p) ? byPath.get(p).card.name : p));
      const progress = entry.progress || {};
      const where = place.where || (names.length === 1 ? names[0] : '');
      return {
        id, name: (stored && stored.name) || names.join(', ') || id, state, percent: Number(progress.percent) || 0,
        speed: progress.speed || '', stage: [where, stageText(progress.stage)].filter(Boolean).join(' · '), where,
        error: state === 'cancelled' ? '' : entry.error || '', created: entry.added_at || '',
        attempt: entry.attempt || 0, attempts: entry.max_attempts || 0,
      };
    }
    return null;
  }

  function jobRow(id) {
    let row = jobRows.get(id);
    if (row) return row;
    const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' },
      h('div', { class: 'progress-fill' }));
    row = {
      element: h('li', { class: 'res-job', 'data-testid': 'install-job', 'data-job-id': id }),
      name: h('span', { class: 'res-job-name' }),
      badge: h('span', { class: 'badge', 'data-field': 'state' }),
      bar,
      percent: h('span', { class: 'res-job-pct mono' }),
      stage: h('span', { class: 'res-job-stage muted', 'data-field': 'stage' }),
      speed: h('span', { class: 'res-job-speed mono muted', 'data-field': 'speed' }),
      error: h('p', { class: 'res-job-error', 'data-field': 'error', hidden: true }),
      key: '',
    };
    bar.setAttribute('aria-label', 'Install progress');
    row.element.append(
      h('div', { class: 'res-job-top' }, row.name, h('div', { class: 'res-job-bar' }, bar, row.percent), row.badge),
      h('div', { class: 'res-job-bottom' }, row.stage, row.speed),
      row.error);
    jobRows.set(id, row);
    return row;
  }

  function updateRow(row, view) {
    const key = JSON.stringify(view);
    if (row.key === key) return;
    row.key = key;
    row.element.dataset.state = view.state;
    row.name.textContent = view.name;
    row.badge.textContent = words(view.state);
    row.badge.className = `badge badge-${view.state}`;
    const pct = view.state === 'completed' ? 100 : Math.max(0, Math.min(100, Math.round(view.percent)));
    row.bar.setAttribute('aria-valuenow', String(pct));
    row.bar.style.setProperty('--pct', `${pct}%`);
    row.percent.textContent = `${pct} %`;
    let stage = view.stage || (view.state === 'running' ? 'Starting…' : '');
    if (view.state === 'completed') stage = 'Done';
    else if (view.state === 'queued') stage = 'Waiting for its turn';
    else if (view.state === 'failed' || view.state === 'cancelled') stage = view.where ? `Stopped at ${view.where}` : '';
    else if (view.state === 'retrying') {
      const count = view.attempts ? ` (attempt ${view.attempt} of ${view.attempts})` : '';
      stage = [view.where, `waiting to retry${count}`].filter(Boolean).join(' · ');
    }
    row.stage.textContent = stage;
    row.speed.textContent = view.state === 'running' ? view.speed : '';
    row.error.textContent = view.error;
    row.error.hidden = !view.error;
  }

  // The jobs shown: those queued from this page, and the instance's latest.
  function shownIds() {
    const instance = instanceSelect.value;
    const ids = new Set(queued.keys());
    for (const [id, entry] of statusEntries) {
      if (!instance || String(entry.instance_id) === instance) ids.add(id);
    }
    if (instance && ctx.jobs && typeof ctx.jobs.all === 'function') {
      for (const job of ctx.jobs.all() || []) {
        if (job.target === instance && (job.items || []).some((item) => cardOfCommand.has(item.source))) ids.add(job.id);
      }
    }
    const views = [...ids].map(jobView).filter(Boolean);
    views.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
    // Every unfinished job, and the latest few finished ones.
    let finished = 0;
    return views.filter((v) => !FINISHED.has(v.state) || queued.has(v.id) || ++finished <= MAX_FINISHED).slice(0, MAX_JOBS);
  }

  function renderJobs() {
    if (!alive) return;
    const views = shownIds();
    jobsSection.hidden = views.length === 0;
    const wanted = new Set(views.map((v) => v.id));
    for (const [id, row] of jobRows) {
      if (!wanted.has(id)) { row.element.remove(); jobRows.delete(id); }
    }
    const ordered = [];
    for (const view of views) {
      const row = jobRow(view.id);
      updateRow(row, view);
      ordered.push(row.element);
    }
    placeInOrder(jobsList, ordered);
    modeText.textContent = connection === 'live' ? 'Live' : 'Updating every 2 s';
  }

  function anyUnfinished() {
    for (const [id] of jobRows) {
      const view = jobView(id);
      if (view && !FINISHED.has(view.state)) return true;
    }
    return queued.size > 0 && [...queued.keys()].some((id) => {
      const view = jobView(id);
      return !view || !FINISHED.has(view.state);
    });
  }

  async function refreshJobs() {
    const instance = instanceSelect.value;
    if (!instance) { renderJobs(); return; }
    try {
      const list = await ctx.api.get(`/downloads/status?instance_id=${encodeURIComponent(instance)}`);
      if (!alive || instance !== instanceSelect.value) return;
      const fresh = new Map();
      for (const entry of Array.isArray(list) ? list : []) {
        // The instance's card installs (its native-source fetches are on Downloads).
        const cardsJob = (entry.resource_paths || []).some((p) => p) || queued.has(entry.id);
        if (cardsJob) fresh.set(entry.id, entry);
      }
      statusEntries = fresh;
    } catch { /* keep the last answer; the header tells about the connection */ }
    renderJobs();
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (!alive) return;
    const polling = connection !== 'live';
    if (!polling && !anyUnfinished()) return;
    pollTimer = setTimeout(async () => {
      if (connection !== 'live') await refreshJobs();
      else renderJobs();
      schedulePoll();
    }, POLL_MS);
  }

  const offs = [];
  if (ctx.live && typeof ctx.live.on === 'function') {
    offs.push(ctx.live.on('jobs', (changed, membership) => {
      if (connection !== 'live') return;
      // Only jobs shown here (or a job added or removed) cost a render.
      if (changed instanceof Set && !membership && ![...jobRows.keys()].some((id) => changed.has(id))) return;
      renderJobs();
    }));
    offs.push(ctx.live.on('connection', (state) => {
      const before = connection;
      connection = state;
      if (before !== state) { renderJobs(); schedulePoll(); }
    }));
  }

  async function load() {
    const [cardAnswer, instanceAnswer] = await Promise.allSettled([
      ctx.api.get('/api/v1/resources'), ctx.api.get('/api/v1/instances')]);
    if (!alive) return;
    if (cardAnswer.status === 'fulfilled') {
      cards = (cardAnswer.value && cardAnswer.value.resources) || [];
      renderCards();
    } else {
      groupsBox.replaceChildren(h('p', { class: 'field-error', role: 'alert' },
        `Resource cards could not be listed: ${cardAnswer.reason && cardAnswer.reason.message}`));
    }
    if (instanceAnswer.status === 'fulfilled') {
      instances = (instanceAnswer.value && instanceAnswer.value.instances) || [];
    }
    renderInstances();
    updateSelection();
    await refreshJobs();
    schedulePoll();
  }
  load();

  return {
    unmount() {
      alive = false;
      clearTimeout(pollTimer);
      for (const off of offs) if (typeof off === 'function') off();
      container.replaceChildren();
    },
  };
}

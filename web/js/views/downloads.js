// Downloads: every job, filtered, in a virtualised list. Row heights are
// deterministic (job line + an error line when there is one + one line per
// file of a multi-file job; the heights come from CSS variables on the
// list), kept as prefix sums; only the rows in view (+ overscan) are in the
// DOM, keyed by job id and updated in place when their job object changes.
import { h, setText, setAttr, icon } from '../dom.js';
import { formatBytes, formatSpeed, formatEta, formatTime, percentOf } from '../format.js';

const STATES = ['queued', 'running', 'retrying', 'paused', 'completed', 'failed', 'cancelled'];
const OVERSCAN = 400; // px above and below the viewport
const ICONS = {
  pause: ['M5.5 3.5v9', 'M10.5 3.5v9'],
  resume: 'M5 3.2v9.6L12.5 8z',
  retry: ['M12.8 8.6A4.8 4.8 0 1 1 11.4 4.6', 'M12.2 2.2v2.9H9.3'],
  cancel: ['M4.5 4.5l7 7', 'M11.5 4.5l-7 7'],
};
const LABELS = { pause: 'Pause', resume: 'Resume', retry: 'Retry', cancel: 'Cancel' };

// Filters outlive the view, so going to Add and back keeps them.
const filters = { state: '', target: '', group: '', q: '' };

function actionsFor(state) {
  switch (state) {
    case 'queued':
    case 'running':
      return ['pause', 'cancel'];
    case 'retrying':
      return ['pause', 'retry', 'cancel'];
    case 'paused':
      return ['resume', 'cancel'];
    case 'failed':
    case 'cancelled':
      return ['retry'];
    default:
      return [];
  }
}

function jobName(job) {
  if (job.name) return job.name;
  const first = job.items && job.items[0];
  return (first && first.name) || job.source || job.id;
}

function errorText(job) {
  const e = job.error;
  if (!e || !e.message) return '';
  if (job.state === 'failed') return e.message;
  if (job.state === 'retrying') {
    const n = job.attempts && job.max_attempts ? ` (attempt ${job.attempts} of ${job.max_attempts})` : '';
    return `Retrying${n}: ${e.message}`;
  }
  return '';
}

function errorTitle(job) {
  const e = job.error;
  if (!e) return '';
  const where = [e.stage && `stage ${e.stage}`, e.file && `file ${e.file}`, e.code && `code ${e.code}`]
    .filter(Boolean)
    .join(', ');
  const next = job.state === 'retrying' && job.next_attempt_at ? `\nNext attempt ${formatTime(job.next_attempt_at)}` : '';
  return `${e.message}${where ? `\n${where}` : ''}${next}`;
}

function bytesText(done, total) {
  if (total) return `${formatBytes(done || 0)} / ${formatBytes(total)}`;
  return done ? formatBytes(done) : '';
}

function fileCount(job) {
  return job.items && job.items.length > 1 ? job.items.length : 0;
}

function matches(job, q) {
  if (filters.state && job.state !== filters.state) return false;
  if (filters.target && job.target !== filters.target) return false;
  if (filters.group && (job.group || '') !== filters.group) return false;
  if (!q) return true;
  for (const text of [job.name, job.source, job.target, job.id]) {
    if (text && text.toLowerCase().includes(q)) return true;
  }
  return false;
}

function progressBar(label) {
  return h(
    'div',
    { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, 'aria-label': label },
    h('div', { class: 'progress-fill' }),
  );
}

function setProgress(bar, pct) {
  const v = String(pct);
  if (bar.getAttribute('aria-valuenow') !== v) {
    bar.setAttribute('aria-valuenow', v);
    bar.style.setProperty('--pct', `${pct}%`);
  }
}

export function mount(container, ctx) {
  const { jobs, live, api, toast } = ctx;

  // ---- static parts -------------------------------------------------------
  const select = (id, label, all) => {
    const el = h('select', { id, on: { change: () => onFilter(el, id) } }, h('option', { value: '' }, all));
    return [el, h('div', { class: 'field field-inline' }, h('label', { for: id }, label), el)];
  };
  const [stateSel, stateField] = select('dl-state', 'State', 'All states');
  const [targetSel, targetField] = select('dl-target', 'Target', 'All targets');
  const [groupSel, groupField] = select('dl-group', 'Group', 'All groups');
  const search = h('input', {
    id: 'dl-search',
    type: 'search',
    placeholder: 'Name, source, target, id',
    autocomplete: 'off',
    spellcheck: 'false',
    value: filters.q,
    on: { input: () => onFilter(search, 'dl-search') },
  });
  const summary = h('span', { class: 'muted dl-summary', 'aria-live': 'polite' });
  const spacer = h('div', { class: 'job-spacer', role: 'list' });
  const empty = h('div', { class: 'empty dl-empty', hidden: true });
  const list = h('div', {
    class: 'job-list',
    'data-testid': 'job-list',
    tabindex: 0,
    role: 'region',
    'aria-label': 'Download list',
  }, spacer);

  container.append(
    h('section', { class: 'view view-downloads', 'aria-labelledby': 'dl-title' },
      h('div', { class: 'view-head' }, h('h1', { id: 'dl-title' }, 'Downloads'), summary),
      h('div', { class: 'toolbar dl-filters' },
        stateField, targetField, groupField,
        h('div', { class: 'field field-inline dl-search' }, h('label', { for: 'dl-search' }, 'Search'), search)),
      empty,
      list),
  );

  // ---- state --------------------------------------------------------------
  let shown = []; // the filtered jobs, in order
  let offsets = new Float64Array(1); // offsets[i] = top of row i; offsets[n] = total
  let indexOf = new Map(); // id -> index in shown
  const rows = new Map(); // id -> row record, only rows in the DOM
  let sizes = readSizes();
  let optionKeys = { state: '', target: '', group: '' };
  let frame = 0;

  function readSizes() {
    const cs = getComputedStyle(list);
    const px = (name, fallback) => parseFloat(cs.getPropertyValue(name)) || fallback;
    return { job: px('--job-h', 46), error: px('--err-h', 20), file: px('--file-h', 24) };
  }

  function heightOf(job) {
    return sizes.job + (errorText(job) ? sizes.error : 0) + fileCount(job) * sizes.file;
  }

  function onFilter(el, id) {
    if (id === 'dl-state') filters.state = el.value;
    else if (id === 'dl-target') filters.target = el.value;
    else if (id === 'dl-group') filters.group = el.value;
    else filters.q = el.value;
    relayout();
    list.scrollTop = 0;
    render();
  }

  // Options built from the data; the DOM is touched only when the set changes.
  function fillOptions(sel, kind, values, labelOf) {
    const current = filters[kind];
    if (current && !values.includes(current)) values.push(current);
    const key = values.join('\u0000');
    if (optionKeys[kind] === key) return;
    optionKeys[kind] = key;
    const first = sel.options[0];
    sel.replaceChildren(first, ...values.map((v) => h('option', { value: v }, labelOf(v))));
    sel.value = current;
  }

  function updateOptions(all) {
    const states = new Set();
    const targets = new Set();
    const groups = new Set();
    for (const job of all) {
      states.add(job.state);
      targets.add(job.target);
      if (job.group) groups.add(job.group);
    }
    fillOptions(stateSel, 'state', STATES.filter((s) => states.has(s)), (s) => s);
    const t = [...targets].filter(Boolean).sort((a, b) => (a === 'local' ? -1 : b === 'local' ? 1 : a.localeCompare(b)));
    fillOptions(targetSel, 'target', t, (v) => v);
    fillOptions(groupSel, 'group', [...groups].sort(), (g) => g);
  }

  function relayout() {
    const all = jobs.all();
    updateOptions(all);
    const q = filters.q.trim().toLowerCase();
    shown = all.filter((job) => matches(job, q));
    offsets = new Float64Array(shown.length + 1);
    indexOf = new Map();
    for (let i = 0; i < shown.length; i++) {
      offsets[i + 1] = offsets[i] + heightOf(shown[i]);
      indexOf.set(shown[i].id, i);
    }
    spacer.style.height = `${offsets[shown.length]}px`;
    const filtered = filters.state || filters.target || filters.group || q;
    setText(summary, filtered ? `${shown.length} of ${all.length}` : `${all.length} ${all.length === 1 ? 'job' : 'jobs'}`);
    updateEmpty(all.length);
  }

  function updateEmpty(total) {
    const none = shown.length === 0;
    list.hidden = none;
    empty.hidden = !none;
    if (!none) return;
    let key;
    if (!jobs.loaded && total === 0) key = live.state === 'offline' ? 'offline' : 'loading';
    else key = total === 0 ? 'none' : 'filtered';
    if (empty.dataset.kind === key) return;
    empty.dataset.kind = key;
    if (key === 'loading') empty.replaceChildren('Loading downloads…');
    else if (key === 'offline') empty.replaceChildren('The daemon cannot be reached; retrying.');
    else if (key === 'none') {
      empty.replaceChildren(
        h('p', null, 'No downloads yet.'),
        h('p', null, h('a', { href: '#/add', class: 'btn btn-primary' }, 'Add a download')),
      );
    } else {
      empty.replaceChildren(
        h('p', null, 'No downloads match these filters.'),
        h('p', null, h('button', { type: 'button', class: 'btn', on: { click: clearFilters } }, 'Clear filters')),
      );
    }
  }

  function clearFilters() {
    filters.state = filters.target = filters.group = filters.q = '';
    stateSel.value = targetSel.value = groupSel.value = search.value = '';
    relayout();
    render();
  }

  // First row whose bottom is below y.
  function rowAt(y) {
    let lo = 0;
    let hi = shown.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function render() {
    frame = 0;
    if (!shown.length) {
      for (const id of [...rows.keys()]) dropRow(id);
      return;
    }
    const top = list.scrollTop;
    const first = rowAt(Math.max(0, top - OVERSCAN));
    const last = rowAt(top + list.clientHeight + OVERSCAN);
    const focused = document.activeElement;
    for (const [id, rec] of rows) {
      const i = indexOf.get(id);
      const inRange = i !== undefined && i >= first && i <= last;
      if (!inRange && !(i !== undefined && rec.el.contains(focused))) dropRow(id);
    }
    for (let i = first; i <= last; i++) placeRow(i);
    for (const [id, rec] of rows) {
      const i = indexOf.get(id);
      if (i < first || i > last) placeRow(i, rec); // kept because it has focus
    }
  }

  function dropRow(id) {
    const rec = rows.get(id);
    if (!rec) return;
    rec.el.remove();
    rows.delete(id);
  }

  function placeRow(i, existing) {
    const job = shown[i];
    let rec = existing || rows.get(job.id);
    if (!rec) {
      rec = createRow(job);
      rows.set(job.id, rec);
      spacer.append(rec.el);
    }
    if (rec.job !== job) updateRow(rec, job);
    const y = offsets[i];
    const hgt = offsets[i + 1] - y;
    if (rec.y !== y) {
      rec.y = y;
      rec.el.style.transform = `translateY(${y}px)`;
    }
    if (rec.h !== hgt) {
      rec.h = hgt;
      rec.el.style.height = `${hgt}px`;
    }
    if (rec.pos !== i) {
      rec.pos = i;
      rec.el.setAttribute('aria-posinset', i + 1);
      rec.el.setAttribute('aria-setsize', shown.length);
    }
  }

  function createRow(job) {
    const f = {};
    const field = (tag, name, cls) => (f[name] = h(tag, { class: cls, 'data-field': name }));
    f.bar = progressBar('Progress');
    f.pct = h('span', { class: 'job-pct' });
    f.actions = h('div', { class: 'job-actions' });
    f.error = h('div', { class: 'job-error', 'data-field': 'error', hidden: true });
    f.files = h('div', { class: 'job-files', hidden: true });
    const el = h('div', { class: 'job-row', 'data-testid': 'job-row', 'data-job-id': job.id, role: 'listitem' },
      h('div', { class: 'job-main' },
        h('div', { class: 'job-title' }, field('span', 'name', 'job-name'), field('span', 'source', 'job-source')),
        field('span', 'target', 'job-target'),
        h('span', { class: 'job-state' }, field('span', 'state', 'badge')),
        h('div', { class: 'job-progress' }, f.bar, f.pct),
        field('span', 'bytes', 'job-bytes'),
        field('span', 'speed', 'job-speed'),
        field('span', 'eta', 'job-eta'),
        f.actions),
      f.error,
      f.files);
    return { el, f, job: null, y: -1, h: -1, pos: -1, actionsKey: null, fileRows: [] };
  }

  function updateRow(rec, job) {
    const { f, el } = rec;
    const old = rec.job;
    rec.job = job;
    const name = jobName(job);
    const running = job.state === 'running';
    const pct = percentOf(job.progress, job.state === 'completed');
    setAttr(el, 'data-state', job.state);
    setText(f.name, name);
    setAttr(f.name, 'title', name);
    setText(f.source, job.source);
    setAttr(f.source, 'title', job.source);
    setText(f.target, job.target === 'local' ? 'local' : job.target);
    setAttr(f.target, 'title', job.target === 'local' ? 'This machine' : `Instance ${job.target}`);
    setText(f.state, job.state);
    if (!old || old.state !== job.state) f.state.className = `badge badge-${job.state}`;
    setProgress(f.bar, pct);
    setText(f.pct, `${pct}%`);
    if (!old || old.id !== job.id || jobName(old) !== name) setAttr(f.bar, 'aria-label', `Progress of ${name}`);
    setText(f.bytes, bytesText(job.bytes_done, job.bytes_total));
    setText(f.speed, running ? formatSpeed(job.speed) : '');
    setText(f.eta, running ? formatEta(job.eta) : '');
    const err = errorText(job);
    setText(f.error, err);
    f.error.hidden = !err;
    setAttr(f.error, 'title', err ? errorTitle(job) : null);
    setAttr(f.error, 'role', job.state === 'failed' ? 'alert' : null);
    updateActions(rec, job, name);
    updateFiles(rec, job);
  }

  function updateActions(rec, job, name) {
    const acts = actionsFor(job.state);
    const key = `${acts.join(',')}|${name}`;
    if (rec.actionsKey === key) return;
    rec.actionsKey = key;
    const hadFocus = rec.f.actions.contains(document.activeElement);
    rec.f.actions.replaceChildren(
      ...acts.map((a) =>
        h('button', {
          type: 'button',
          class: `btn btn-icon btn-small${a === 'cancel' ? ' btn-quiet-danger' : ''}`,
          'data-action': a,
          'aria-label': `${LABELS[a]} ${name}`,
          title: LABELS[a],
        }, icon(ICONS[a])),
      ),
    );
    // Keyboard users keep their place when the buttons change under them.
    if (hadFocus) (rec.f.actions.firstElementChild || list).focus({ preventScroll: true });
  }

  function updateFiles(rec, job) {
    const n = fileCount(job);
    const box = rec.f.files;
    box.hidden = n === 0;
    while (rec.fileRows.length > n) rec.fileRows.pop().el.remove();
    while (rec.fileRows.length < n) {
      const fr = {
        name: h('span', { class: 'file-name', 'data-field': 'file-name' }),
        state: h('span', { class: 'file-state' }),
        bar: progressBar('File progress'),
        pct: h('span', { class: 'file-pct' }),
        bytes: h('span', { class: 'file-bytes' }),
        item: null,
      };
      fr.el = h('div', { class: 'file-row', 'data-testid': 'file-row' },
        fr.name, fr.state, h('div', { class: 'file-progress' }, fr.bar, fr.pct), fr.bytes);
      rec.fileRows.push(fr);
      box.append(fr.el);
    }
    for (let i = 0; i < n; i++) {
      const item = job.items[i];
      const fr = rec.fileRows[i];
      if (fr.item === item) continue;
      fr.item = item;
      const name = item.name || item.path || item.source || `file ${i + 1}`;
      const state = item.state || 'queued';
      setText(fr.name, name);
      setAttr(fr.name, 'title', item.path || item.source || name);
      // A card's stage (images, model, cache, verify) says more than "running";
      // a local file's "model" stage says nothing.
      const showStage = state === 'running' && item.stage && (job.target !== 'local' || item.stage !== 'model');
      const stage = showStage ? item.stage : state;
      setText(fr.state, stage);
      setAttr(fr.el, 'data-state', state);
      const ierr = item.error && item.error.message;
      setAttr(fr.state, 'title', ierr || null);
      const pct = percentOf(item.progress, state === 'completed');
      setProgress(fr.bar, pct);
      setAttr(fr.bar, 'aria-label', `Progress of ${name}`);
      setText(fr.pct, `${pct}%`);
      setText(fr.bytes, bytesText(item.bytes_done, item.size));
    }
  }

  // ---- events -------------------------------------------------------------
  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  list.addEventListener('scroll', schedule, { passive: true });

  list.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button || button.getAttribute('aria-disabled') === 'true') return;
    const row = button.closest('[data-job-id]');
    const id = row && row.dataset.jobId;
    if (!id) return;
    const action = button.dataset.action;
    // aria-disabled, not disabled: a disabled button would drop keyboard focus.
    button.setAttribute('aria-disabled', 'true');
    const sent = performance.now();
    try {
      const job = await api.post(`/api/v1/jobs/${encodeURIComponent(id)}/${action}`);
      if (job && job.id) jobs.put(job, sent);
    } catch (err) {
      toast(`${LABELS[action]} failed: ${err.message}`, 'error');
    } finally {
      button.removeAttribute('aria-disabled');
    }
  });

  const resize = new ResizeObserver(() => {
    const next = readSizes();
    if (next.job !== sizes.job || next.error !== sizes.error || next.file !== sizes.file) {
      sizes = next;
      relayout();
    }
    schedule();
  });
  resize.observe(list);

  const offJobs = live.on('jobs', () => {
    // Filtering 1,000 jobs and their prefix sums is cheap; rows whose job
    // object did not change are left alone by render().
    relayout();
    if (frame) cancelAnimationFrame(frame);
    render();
  });
  const offConn = live.on('connection', () => {
    if (!shown.length) relayout();
  });

  for (const [sel, kind] of [[stateSel, 'state'], [targetSel, 'target'], [groupSel, 'group']]) sel.value = filters[kind];
  relayout();
  render();

  return {
    unmount() {
      offJobs();
      offConn();
      resize.disconnect();
      if (frame) cancelAnimationFrame(frame);
      rows.clear();
    },
  };
}

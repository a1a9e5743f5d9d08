// Models view: the registered manifests' models with their presence
// (GET /api/v1/models), missing ones hidden behind "Show Missing Models"
// (seed 004), "Download missing" per model and for all (POST
// /api/v1/models/sync), live from the models channel and the job store, and a
// ComfyUI workflow imported by drag and drop (POST /api/v1/manifests).
import { h, placeInOrder } from '../dom.js';
import { formatBytes, formatSpeed } from '../format.js';

const STATES = ['present', 'partial', 'corrupt', 'downloading', 'missing'];
const WORDS = { present: 'Present', missing: 'Missing', partial: 'Partial', corrupt: 'Corrupt', downloading: 'Downloading' };
const FINISHED = new Set(['completed', 'failed', 'cancelled']);

const keyOf = (model) => `${model.manifest}\n${model.id}`;

function modelSize(model) {
  let total = 0;
  for (const file of model.files || []) total += Number(file.expected_size || file.size || 0);
  return total;
}

function plural(n, one, many) { return `${n} ${n === 1 ? one : many}`; }

export function mount(container, ctx) {
  let alive = true;
  let models = [];                 // in manifest order
  let manifests = [];
  const rows = new Map();          // key -> row parts
  const jobOf = new Map();         // key -> job id queued from here (until the catalog says)
  let refetchTimer = 0;
  let loading = null;
  let counter = 0;

  // ---- controls ------------------------------------------------------------

  const showMissing = h('input', { type: 'checkbox', id: 'mdl-show-missing' });
  const hiddenText = h('span', { class: 'muted mdl-hidden', 'data-testid': 'hidden-count', 'aria-live': 'polite' });
  const manifestSelect = h('select', { id: 'mdl-manifest' }, h('option', { value: '' }, 'All manifests'));
  const downloadAll = h('button', { type: 'button', class: 'btn btn-primary', disabled: true, on: { click: onDownloadAll } },
    'Download all missing');
  const summary = h('p', { class: 'mdl-summary muted', 'aria-live': 'polite' });
  const listError = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const syncError = h('p', { class: 'field-error', role: 'alert', 'data-testid': 'form-error', hidden: true });
  const list = h('ul', { class: 'mdl-list' });
  const empty = h('p', { class: 'empty', hidden: true });

  // ---- import --------------------------------------------------------------

  const fileInput = h('input', { type: 'file', id: 'mdl-import', class: 'mdl-file-input visually-hidden', accept: '.json,application/json' });
  const importResult = h('div', { class: 'mdl-import-result', 'aria-live': 'polite' });
  const importError = h('p', { class: 'field-error', role: 'alert', 'data-testid': 'import-error', hidden: true });
  const drop = h('div', { class: 'mdl-drop', 'data-testid': 'workflow-drop' },
    h('p', { class: 'mdl-drop-text' },
      h('strong', {}, 'Drop a ComfyUI workflow'),
      h('span', { class: 'muted' }, ' (.json) here to register its models, or ')),
    fileInput,
    h('label', { for: 'mdl-import', class: 'btn btn-small mdl-file-label' }, 'Import ComfyUI workflow'));

  container.append(
    h('section', { class: 'view view-models', 'aria-labelledby': 'mdl-title' },
      h('div', { class: 'view-head' },
        h('h1', { id: 'mdl-title' }, 'Models'),
        h('div', { class: 'toolbar mdl-toolbar' },
          h('span', { class: 'mdl-toggle' }, showMissing, h('label', { for: 'mdl-show-missing' }, 'Show Missing Models')),
          hiddenText,
          h('div', { class: 'field field-inline mdl-manifest-field', hidden: true },
            h('label', { for: 'mdl-manifest' }, 'Manifest'), manifestSelect),
          downloadAll)),
      h('section', { class: 'mdl-import', 'aria-label': 'Workflow import' },
        drop,
        importError,
        importResult),
      summary,
      syncError,
      listError,
      list,
      empty));
  const manifestField = container.querySelector('.mdl-manifest-field');

  // ---- rows ----------------------------------------------------------------

  function jobFor(model) {
    const id = model.job_id || jobOf.get(keyOf(model));
    if (!id || !ctx.jobs || typeof ctx.jobs.get !== 'function') return null;
    return ctx.jobs.get(id) || null;
  }

  // The state shown: the catalog's, or downloading while a job queued from
  // here runs and the catalog has not said so yet.
  function stateOf(model) {
    const job = jobFor(model);
    if (model.state !== 'present' && job && !FINISHED.has(job.state)) return 'downloading';
    return STATES.includes(model.state) ? model.state : 'missing';
  }

  // Every file not present has a source to fetch it from.
  function downloadable(model) {
    return (model.files || []).every((f) => f.state === 'present' || f.source !== '');
  }

  function buildRow(model) {
    const id = `mdl-${++counter}`;
    const row = {
      element: h('li', { class: 'mdl-row', 'data-testid': 'model-row', 'data-model-id': model.id }),
      name: h('span', { class: 'mdl-name', id: `${id}-name` }),
      group: h('span', { class: 'mdl-group mono muted' }),
      noSource: h('span', { class: 'mdl-nosource', hidden: true }, 'no source'),
      files: h('button', { type: 'button', class: 'btn btn-small mdl-files-toggle', 'aria-expanded': 'false', 'aria-controls': `${id}-files`, 'aria-describedby': `${id}-name` }),
      size: h('span', { class: 'mdl-size mono muted' }),
      badge: h('span', { class: 'badge', 'data-field': 'state' }),
      action: h('button', { type: 'button', class: 'btn btn-small mdl-action', 'aria-describedby': `${id}-name` }, 'Download missing'),
      progress: h('div', { class: 'mdl-progress', hidden: true }),
      bar: h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Download progress', 'aria-describedby': `${id}-name`, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' },
        h('div', { class: 'progress-fill' })),
      progressText: h('span', { class: 'mono muted mdl-progress-text' }),
      fileList: h('ul', { class: 'mdl-file-list', id: `${id}-files`, hidden: true }),
      note: h('p', { class: 'mdl-note', hidden: true }),
      key: '',
      filesKey: '',
      model,
    };
    row.action.addEventListener('click', () => downloadOne(row.model, row));
    row.files.addEventListener('click', () => {
      const open = row.files.getAttribute('aria-expanded') !== 'true';
      row.files.setAttribute('aria-expanded', String(open));
      row.fileList.hidden = !open;
    });
    row.progress.append(row.bar, row.progressText);
    row.element.append(
      h('div', { class: 'mdl-main' },
        h('div', { class: 'mdl-title' }, row.name, row.group, row.noSource),
        h('div', { class: 'mdl-meta' }, row.files, row.size, row.badge, h('span', { class: 'mdl-action-slot' }, row.action))),
      row.progress,
      row.note,
      row.fileList);
    return row;
  }

  function fileItem(file) {
    const state = STATES.includes(file.state) ? file.state : 'missing';
    const size = Number(file.expected_size || file.size || 0);
    let sizeText = size ? formatBytes(size) : '';
    if ((state === 'partial' || state === 'downloading') && size) sizeText = `${formatBytes(file.bytes_done || 0)} / ${formatBytes(size)}`;
    return h('li', { class: 'mdl-file', 'data-state': state },
      h('span', { class: `badge badge-${state}` }, WORDS[state]),
      h('span', { class: 'mdl-file-path mono' }, file.relative_path || file.path),
      h('span', { class: 'mdl-file-size mono muted' }, sizeText),
      file.reason ? h('span', { class: 'mdl-file-reason muted' }, file.reason) : '',
      file.source === '' ? h('span', { class: 'mdl-file-reason warn' }, 'no source known') : '',
      file.source ? h('span', { class: 'mdl-file-source mono muted' }, file.source) : '');
  }

  function updateRow(row) {
    const model = row.model;
    const state = stateOf(model);
    const job = jobFor(model);
    const live = job && !FINISHED.has(job.state) ? job : null;
    const key = JSON.stringify([model, state, live && [live.state, live.progress, live.speed], job && job.state]);
    if (key === row.key) return;
    const filesKey = JSON.stringify(model.files || []);
    const filesChanged = filesKey !== row.filesKey;
    row.filesKey = filesKey;
    row.key = key;
    row.element.dataset.state = state;
    row.element.dataset.modelId = model.id;
    row.name.textContent = model.name || model.id;
    row.group.textContent = model.group || '';
    const files = model.files || [];
    const present = files.filter((f) => f.state === 'present').length;
    row.files.textContent = files.length > 1 && present > 0 && present < files.length
      ? `${present}/${files.length} files` : plural(files.length, 'file', 'files');
    const size = modelSize(model);
    row.size.textContent = size ? formatBytes(size) : '';
    row.badge.textContent = WORDS[state];
    row.badge.className = `badge badge-${state}`;
    row.action.hidden = state === 'present';
    row.action.disabled = state === 'downloading';
    const noSource = state !== 'present' && !downloadable(model);
    row.noSource.hidden = !noSource;
    row.noSource.title = noSource ? 'The manifest gives no source for a missing file: it cannot be downloaded' : '';
    if (noSource) row.action.disabled = true;
    if (job && job.state === 'failed' && state !== 'present') {
      const error = job.error && job.error.message ? job.error.message : 'unknown error';
      row.note.textContent = `Last download failed: ${error}`;
      row.note.hidden = false;
    } else if (!row.note.dataset.sticky) {
      row.note.hidden = true;
    }
    if (live || state === 'downloading') {
      const pct = live ? Math.round(Number(live.progress) || 0) : 0;
      row.progress.hidden = false;
      row.bar.setAttribute('aria-valuenow', String(pct));
      row.bar.style.setProperty('--pct', `${pct}%`);
      const parts = [`${pct} %`];
      if (live && live.speed > 0) parts.push(formatSpeed(live.speed));
      if (live && live.state !== 'running') parts.push(live.state);
      row.progressText.textContent = parts.join(' · ');
    } else {
      row.progress.hidden = true;
    }
    if (filesChanged) row.fileList.replaceChildren(...files.map(fileItem));
  }

  function visible(model) {
    if (manifestSelect.value && model.manifest !== manifestSelect.value) return false;
    return showMissing.checked || stateOf(model) !== 'missing';
  }

  function render() {
    if (!alive) return;
    const wanted = new Set();
    const ordered = [];
    let hidden = 0;
    let missing = 0;
    const counts = {};
    for (const model of models) {
      const state = stateOf(model);
      if (!manifestSelect.value || model.manifest === manifestSelect.value) {
        counts[state] = (counts[state] || 0) + 1;
        if (state !== 'present' && state !== 'downloading' && downloadable(model)) missing += 1;
      }
      if (!visible(model)) {
        if (!manifestSelect.value || model.manifest === manifestSelect.value) hidden += 1;
        continue;
      }
      const key = keyOf(model);
      wanted.add(key);
      let row = rows.get(key);
      if (!row) { row = buildRow(model); rows.set(key, row); }
      row.model = model;
      updateRow(row);
      ordered.push(row.element);
    }
    placeInOrder(list, ordered);
    for (const [key, row] of rows) {
      if (!wanted.has(key)) { row.element.remove(); rows.delete(key); }
    }
    hiddenText.textContent = hidden === 0 ? '' : `${plural(hidden, 'missing model', 'missing models')} hidden`;
    downloadAll.disabled = missing === 0;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    summary.textContent = total === 0 ? ''
      : [plural(total, 'model', 'models'), ...STATES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`)].join(' · ');
    if (models.length === 0) {
      empty.textContent = 'No models yet. Import a ComfyUI workflow above, or register a manifest (POST /api/v1/manifests).';
      empty.hidden = false;
    } else if (wanted.size === 0) {
      empty.textContent = hidden ? 'Every model here is missing: tick "Show Missing Models" to see them.' : 'No models match.';
      empty.hidden = false;
    } else {
      empty.hidden = true;
    }
  }

  function renderManifests() {
    const keep = manifestSelect.value;
    manifestSelect.replaceChildren(h('option', { value: '' }, 'All manifests'));
    for (const manifest of manifests) {
      manifestSelect.append(h('option', { value: manifest.id }, `${manifest.name || manifest.id} (${manifest.models})`));
    }
    if (manifests.some((m) => m.id === keep)) manifestSelect.value = keep;
    manifestField.hidden = manifests.length < 2;
  }

  // ---- loading -------------------------------------------------------------

  async function load() {
    if (loading) return loading;
    loading = (async () => {
      try {
        const [modelAnswer, manifestAnswer] = await Promise.all([
          ctx.api.get('/api/v1/models'), ctx.api.get('/api/v1/manifests').catch(() => null)]);
        if (!alive) return;
        models = (modelAnswer && modelAnswer.models) || [];
        for (const model of models) if (model.job_id || model.state === 'present') jobOf.delete(keyOf(model));
        if (manifestAnswer) manifests = manifestAnswer.manifests || [];
        listError.hidden = true;
        renderManifests();
        render();
      } catch (error) {
        if (!alive) return;
        listError.textContent = `Models could not be listed: ${(error && error.message) || error}`;
        listError.hidden = false;
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  function refetchSoon(delay = 400) {
    clearTimeout(refetchTimer);
    refetchTimer = setTimeout(() => { if (alive) load(); }, delay);
  }

  // ---- downloads -----------------------------------------------------------

  function reportSync(answer, row) {
    const jobs = (answer && answer.jobs) || [];
    for (const job of jobs) {
      const labels = job.labels || {};
      if (labels.model) jobOf.set(`${labels.manifest || answer.manifest}\n${labels.model}`, job.id);
    }
    const skipped = ((answer && answer.skipped) || []).filter((s) => s.reason !== 'present');
    if (row && skipped.length) {
      row.note.textContent = `Not queued: ${skipped.map((s) => s.reason).join('; ')}`;
      row.note.hidden = false;
      row.note.dataset.sticky = '1';
    }
    return { queued: jobs.filter((j) => !j.existing).length, known: jobs.filter((j) => j.existing).length, skipped };
  }

  async function downloadOne(model, row) {
    row.action.disabled = true;
    delete row.note.dataset.sticky;
    try {
      const answer = await ctx.api.post('/api/v1/models/sync', { manifest: model.manifest, mode: 'single', models: model.id });
      if (!alive) return;
      const { queued, known, skipped } = reportSync(answer, row);
      if (queued) ctx.toast(`Downloading ${model.name || model.id}`, 'ok');
      else if (known) ctx.toast(`${model.name || model.id} is already downloading`, 'info');
      else if (skipped.length) ctx.toast(`${model.name || model.id}: ${skipped[0].reason}`, 'warn');
      if (ctx.jobs && typeof ctx.jobs.refresh === 'function') Promise.resolve(ctx.jobs.refresh()).catch(() => {});
    } catch (error) {
      if (!alive) return;
      row.note.textContent = (error && error.message) || String(error);
      row.note.hidden = false;
      row.note.dataset.sticky = '1';
      ctx.toast(`Download of ${model.name || model.id} failed: ${error && error.message}`, 'error');
    } finally {
      row.key = '';
      render();
      refetchSoon(1000);
    }
  }

  async function onDownloadAll() {
    const chosen = manifestSelect.value;
    const ids = [...new Set(models
      .filter((m) => (!chosen || m.manifest === chosen) && stateOf(m) !== 'present' && stateOf(m) !== 'downloading' && downloadable(m))
      .map((m) => m.manifest))];
    if (ids.length === 0) return;
    downloadAll.disabled = true;
    downloadAll.setAttribute('aria-busy', 'true');
    let queued = 0;
    let known = 0;
    const skipped = [];
    const failures = [];
    for (const manifest of ids) {
      try {
        const answer = await ctx.api.post('/api/v1/models/sync', { manifest, mode: 'missing' });
        const counts = reportSync(answer, null);
        queued += counts.queued;
        known += counts.known;
        skipped.push(...counts.skipped);
      } catch (error) {
        failures.push(`${manifest}: ${(error && error.message) || error}`);
      }
      if (!alive) return;
    }
    downloadAll.removeAttribute('aria-busy');
    syncError.textContent = failures.length ? `Download all missing: ${failures.join('; ')}` : '';
    syncError.hidden = failures.length === 0;
    let text = queued ? `Queued ${plural(queued, 'model', 'models')}` : failures.length ? 'Download all missing failed' : 'Nothing new to queue';
    if (known) text += `, ${known} already downloading`;
    if (skipped.length) text += `, ${skipped.length} skipped (${skipped[0].reason}${skipped.length > 1 ? ', …' : ''})`;
    ctx.toast(text, failures.length ? 'error' : skipped.length ? 'warn' : 'ok');
    if (ctx.jobs && typeof ctx.jobs.refresh === 'function') Promise.resolve(ctx.jobs.refresh()).catch(() => {});
    render();
    refetchSoon(1000);
  }

  // ---- import --------------------------------------------------------------

  function showImportError(text) {
    importError.textContent = text;
    importError.hidden = !text;
  }

  async function importFile(file) {
    showImportError('');
    importResult.replaceChildren();
    if (!file) return;
    if (!/\.json$/i.test(file.name) && file.type !== 'application/json') {
      showImportError(`${file.name}: not a .json file. Export the workflow from ComfyUI (Save, or Export) and drop that file.`);
      return;
    }
    drop.classList.add('is-busy');
    try {
      const text = await file.text();
      const answer = await ctx.api.post('/api/v1/manifests', { name: file.name, content: text });
      if (!alive) return;
      const notices = answer.notices || [];
      const count = Number(answer.models) || 0;
      importResult.append(h('p', { class: 'mdl-import-ok' },
        h('strong', {}, answer.name || answer.id),
        `: ${plural(count, 'model', 'models')} registered as manifest “${answer.id}” (${answer.format}).`));
      if (count === 0) {
        importResult.append(h('p', { class: 'mdl-import-warn' }, 'The workflow names no models haul could read.'));
      }
      if (notices.length) {
        importResult.append(h('p', { class: 'mdl-import-warn' }, `${plural(notices.length, 'notice', 'notices')}:`),
          h('ul', { class: 'mdl-notices' }, ...notices.map((n) => h('li', {},
            n.where ? h('span', { class: 'mono muted' }, `${n.where}: `) : '', n.message))));
      }
      ctx.toast(`Imported ${file.name}`, notices.length ? 'warn' : 'ok');
      await load();
    } catch (error) {
      if (!alive) return;
      const text = String((error && error.message) || error);
      showImportError(text.startsWith(file.name) ? text : `${file.name}: ${text}`);
    } finally {
      drop.classList.remove('is-busy');
      fileInput.value = '';
    }
  }

  fileInput.addEventListener('change', () => importFile(fileInput.files && fileInput.files[0]));
  let depth = 0;
  drop.addEventListener('dragenter', (event) => { event.preventDefault(); depth += 1; drop.classList.add('is-over'); });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  });
  drop.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (depth === 0) drop.classList.remove('is-over'); });
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    drop.classList.remove('is-over');
    const file = event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files[0];
    if (file) importFile(file);
  });

  showMissing.addEventListener('change', render);
  manifestSelect.addEventListener('change', render);

  // ---- live ----------------------------------------------------------------

  const offs = [];
  const seenFinished = new Set();
  if (ctx.live && typeof ctx.live.on === 'function') {
    offs.push(ctx.live.on('model', (data) => {
      const model = data && data.data && data.data.id ? data.data : data;
      if (!model || !model.id) return;
      const key = keyOf(model);
      const index = models.findIndex((m) => keyOf(m) === key);
      if (index >= 0) models[index] = model;
      else { models.push(model); refetchSoon(); }  // a new manifest: get the order right
      if (model.job_id || model.state === 'present') jobOf.delete(key);
      render();
    }));
    offs.push(ctx.live.on('jobs', (changed) => {
      // Bars follow the store; a job ending means presence changed. Only
      // changes of the jobs of models shown here cost a render.
      let ended = false;
      let touched = !(changed instanceof Set);
      for (const model of models) {
        const id = model.job_id || jobOf.get(keyOf(model));
        if (!id) continue;
        if (!touched && !changed.has(id)) continue;
        touched = true;
        const job = ctx.jobs && ctx.jobs.get ? ctx.jobs.get(id) : null;
        if (job && FINISHED.has(job.state) && !seenFinished.has(id)) { seenFinished.add(id); ended = true; }
      }
      if (touched) render();
      if (ended) refetchSoon();
    }));
    offs.push(ctx.live.on('connection', (state) => { if (state === 'live') refetchSoon(0); }));
  }

  load();

  return {
    unmount() {
      alive = false;
      clearTimeout(refetchTimer);
      for (const off of offs) if (typeof off === 'function') off();
      container.replaceChildren();
    },
  };
}

// Add view: paste sources (one per line), pick a destination folder and a
// target, and queue one job per source with a single POST /api/v1/jobs
// ({"jobs": [...]}: the batch is all or nothing, so a bad line adds nothing).
// The API's error is shown next to the field it concerns.
import { h } from '../dom.js';

const FIELDS = ['sources', 'dest', 'target'];
// The prefix a model folder gets on an instance ('' once the daemon puts a
// relative dest under the instance's models folder itself).
const INSTANCE_MODELS = 'models/';

// The non-empty, non-comment lines of the textarea, with their line numbers.
function sourceLines(text) {
  const out = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line && !line.startsWith('#')) out.push({ line: index + 1, source: line });
  });
  return out;
}

// Which field an API error concerns. The API's errors carry {code, message}
// (and maybe `field`); the message names what was wrong, so map by it.
export function fieldOf(error) {
  const named = error && error.field ? String(error.field) : '';
  if (/^(source|sources|files)/.test(named)) return 'sources';
  if (/^dest/.test(named)) return 'dest';
  if (/^target/.test(named)) return 'target';
  if (!error || !error.status) return 'form';  // unreachable, or not an API error
  const message = String(error.message || '');
  if (/^job \d+: /.test(message)) return 'sources';
  if (/destination|'dest'|allowed roots/i.test(message)) return 'dest';
  if (/target|instance/i.test(message)) return 'target';
  if (/source|url|hf:\/\/|civitai|s3:\/\/|urn:air|sha256|repo|host|scheme/i.test(message)) return 'sources';
  return 'form';
}

export function mount(container, ctx) {
  let alive = true;
  let busy = false;

  const sources = h('textarea', {
    id: 'add-sources', class: 'add-sources', rows: '6', spellcheck: 'false', autocomplete: 'off',
    'aria-describedby': 'add-sources-hint add-sources-error',
    placeholder: 'https://example.com/model.safetensors\nhf://org/repo/file.safetensors\nhttps://civitai.com/models/1678575?modelVersionId=1900322\ns3://bucket/key',
  });
  const count = h('span', { class: 'add-count muted', 'aria-live': 'polite' });
  const errors = {};
  for (const name of [...FIELDS, 'form']) {
    errors[name] = h('p', {
      class: 'field-error', role: 'alert', id: `add-${name}-error`, 'data-testid': `${name}-error`, hidden: true,
    });
  }

  const destSlot = h('div', { class: 'add-dest-slot' });
  let dest = h('select', { id: 'add-dest', 'aria-describedby': 'add-dest-error' },
    h('option', { value: '' }, 'Automatic'));
  destSlot.append(dest);
  const target = h('select', { id: 'add-target', 'aria-describedby': 'add-target-error' },
    h('option', { value: 'local' }, 'This machine'));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add downloads');

  const form = h('form', { class: 'add-form card', novalidate: true, on: { submit: onSubmit } },
    h('div', { class: 'field' },
      h('label', { for: 'add-sources' }, 'Sources'),
      h('p', { class: 'field-hint muted', id: 'add-sources-hint' },
        'One per line: a URL, hf://org/repo[/file], a CivitAI URL or AIR (urn:air:…), or s3://bucket/key.'),
      sources,
      errors.sources),
    h('div', { class: 'add-row' },
      h('div', { class: 'field' },
        h('label', { for: 'add-dest' }, 'Destination folder'),
        destSlot,
        errors.dest),
      h('div', { class: 'field' },
        h('label', { for: 'add-target' }, 'Target'),
        target,
        errors.target)),
    errors.form,
    h('div', { class: 'toolbar add-actions' }, submit, count));

  container.append(
    h('section', { class: 'view view-add', 'aria-labelledby': 'add-title' },
      h('div', { class: 'view-head' }, h('h1', { id: 'add-title' }, 'Add downloads')),
      form));

  function updateCount() {
    const n = sourceLines(sources.value).length;
    count.textContent = n === 0 ? '' : n === 1 ? '1 source' : `${n} sources`;
  }
  sources.addEventListener('input', () => { updateCount(); showError('sources', ''); });
  // Ctrl/Cmd+Enter in the textarea submits.
  sources.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  target.addEventListener('change', () => showError('target', ''));
  form.addEventListener('change', (event) => { if (event.target && event.target.id === 'add-dest') showError('dest', ''); });

  function showError(name, text) {
    const el = errors[name];
    el.textContent = text;
    el.hidden = !text;
    const control = name === 'sources' ? sources : name === 'dest' ? dest : name === 'target' ? target : null;
    if (control) {
      if (text) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    }
  }
  function clearErrors() { for (const name of [...FIELDS, 'form']) showError(name, ''); }

  async function loadFolders() {
    try {
      const answer = await ctx.api.get('/api/v1/folders');
      if (!alive) return;
      for (const folder of (answer && answer.folders) || []) {
        dest.append(h('option', { value: folder }, folder));
      }
    } catch (error) {
      if (!alive) return;
      // No folder list (an older daemon): a free-text folder instead.
      const input = h('input', {
        id: 'add-dest', type: 'text', placeholder: 'Automatic', autocomplete: 'off', spellcheck: 'false',
        'aria-describedby': 'add-dest-error',
      });
      dest.replaceWith(input);
      dest = input;
      if (error && error.status && error.status !== 404) showError('dest', `Folders: ${error.message}`);
    }
  }

  async function loadInstances() {
    try {
      const answer = await ctx.api.get('/api/v1/instances');
      if (!alive) return;
      for (const instance of (answer && answer.instances) || []) {
        target.append(h('option', { value: instance.id }, `${instance.id} (${instance.host || instance.ssh_command})`));
      }
    } catch (error) {
      if (alive) showError('target', `Instances could not be listed: ${error.message}`);
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    const lines = sourceLines(sources.value);
    if (lines.length === 0) {
      showError('sources', 'Paste at least one source.');
      sources.focus();
      return;
    }
    const targetId = target.value || 'local';
    let folder = dest.value.trim();
    // On an instance a relative dest is read against its UI_HOME (FetchRunner's
    // remote_destination), where the model folders are under models/.
    if (folder && targetId !== 'local' && INSTANCE_MODELS && !folder.startsWith('/') && !folder.startsWith(INSTANCE_MODELS)) {
      folder = INSTANCE_MODELS + folder;
    }
    const jobs = lines.map(({ source }) => {
      const job = { source, target: targetId };
      if (folder) job.dest = folder;
      return job;
    });
    busy = true;
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      const answer = await ctx.api.post('/api/v1/jobs', { jobs });
      if (!alive) return;
      const list = (answer && answer.jobs) || [];
      const fresh = list.filter((job) => !job.existing).length;
      const known = list.length - fresh;
      let text = fresh === 1 ? 'Added 1 download' : `Added ${fresh} downloads`;
      if (known) text += known === 1 ? ' (1 was already queued)' : ` (${known} were already queued)`;
      ctx.toast(text, 'ok');
      if (ctx.jobs && typeof ctx.jobs.refresh === 'function') {
        try { ctx.jobs.refresh(); } catch { /* the store refreshes itself too */ }
      }
      ctx.navigate('#/downloads');
    } catch (error) {
      if (!alive) return;
      const field = fieldOf(error);
      let text = String((error && error.message) || error);
      const indexed = /^job (\d+): (.*)$/s.exec(text);
      if (indexed && lines[Number(indexed[1])]) {
        text = `Line ${lines[Number(indexed[1])].line}: ${indexed[2]}`;
      } else if (field === 'sources' && lines.length > 1) {
        const hit = lines.find(({ source }) => text.includes(source.split('?')[0]));
        if (hit) text = `Line ${hit.line}: ${text}`;
      }
      if (error && error.status === 0) text = `The daemon is unreachable: ${text}`;
      showError(field, text);
      const control = field === 'sources' ? sources : field === 'dest' ? dest : field === 'target' ? target : null;
      if (control) control.focus();
    } finally {
      busy = false;
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  }

  loadFolders();
  loadInstances();
  sources.focus();

  return {
    unmount() {
      alive = false;
      container.replaceChildren();
    },
  };
}

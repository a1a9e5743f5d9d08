// Instances view: the remote instances (GET /api/v1/instances) with their
// reachability (POST /api/v1/instances/{id}/check, run when the view opens
// and by "Check") and last use; add one by pasting its ssh command (POST
// /api/v1/instances); remove one after an inline "Remove? Yes / No".
import { h, placeInOrder } from '../dom.js';
import { formatTime, relativeTime } from '../format.js';

const DEFAULT_UI_HOME = '/workspace/ComfyUI';

// Which field of the add form an API error concerns (errors carry no field:
// map by the message).
function fieldOf(error) {
  const named = error && error.field ? String(error.field) : '';
  if (/^(id|name)$/.test(named)) return 'name';
  if (/^(ssh|ssh_command)$/.test(named)) return 'ssh';
  if (/^ui_home$/.test(named)) return 'ui-home';
  if (!error || !error.status || error.code !== 'invalid_argument') return 'form';
  const message = String(error.message || '');
  if (/an id other than|'id'|'name'|instance id|instance name/i.test(message)) return 'name';
  if (/ui_home|UI_HOME|ui home/i.test(message)) return 'ui-home';
  return 'ssh';  // the rest is about the command: parse errors, its host, port, options
}

function when(iso) {
  if (!iso) return '';
  try { return relativeTime(iso); } catch { return iso; }
}

export function mount(container, ctx) {
  let alive = true;
  let instances = [];
  const rows = new Map();     // id -> row parts
  const checks = new Map();   // id -> last check answer | 'checking' | 'unknown' | {error}
  let checkMissing = false;
  let counter = 0;   // the daemon has no check route (404): reachability unknown

  // ---- add form ------------------------------------------------------------

  const nameInput = h('input', { id: 'inst-name', type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'gpu-1',
    'aria-describedby': 'inst-name-error' });
  const sshInput = h('input', { id: 'inst-ssh', type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono',
    placeholder: 'ssh -p 2222 root@1.2.3.4', 'aria-describedby': 'inst-ssh-hint inst-ssh-error' });
  const homeInput = h('input', { id: 'inst-home', type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono',
    placeholder: DEFAULT_UI_HOME, 'aria-describedby': 'inst-ui-home-error' });
  const errors = {};
  for (const [name, testid] of [['name', 'name-error'], ['ssh', 'ssh-command-error'], ['ui-home', 'ui-home-error'], ['form', 'form-error']]) {
    errors[name] = h('p', { class: 'field-error', role: 'alert', id: `inst-${name}-error`, 'data-testid': testid, hidden: true });
  }
  const controls = { name: nameInput, ssh: sshInput, 'ui-home': homeInput };
  const addButton = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add instance');

  const form = h('form', { class: 'inst-form card', novalidate: true, 'aria-labelledby': 'inst-add-title', on: { submit: onAdd } },
    h('h2', { id: 'inst-add-title' }, 'Add an instance'),
    h('div', { class: 'inst-form-grid' },
      h('div', { class: 'field' }, h('label', { for: 'inst-name' }, 'Name'), nameInput, errors.name),
      h('div', { class: 'field inst-ssh-field' },
        h('label', { for: 'inst-ssh' }, 'SSH command'), sshInput,
        h('p', { class: 'field-hint muted', id: 'inst-ssh-hint' }, 'As your provider shows it; port forwards (-L) are kept.'),
        errors.ssh),
      h('div', { class: 'field' },
        h('label', { for: 'inst-home' }, 'UI home ', h('span', { class: 'muted' }, '(optional)')), homeInput, errors['ui-home'])),
    errors.form,
    h('div', { class: 'toolbar' }, addButton));

  const list = h('ul', { class: 'inst-list' });
  const empty = h('p', { class: 'empty', hidden: true }, 'No instances yet. Add one with its ssh command below.');
  const listError = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const checkAll = h('button', { type: 'button', class: 'btn btn-small', on: { click: () => checkEvery() } }, 'Check all');

  container.append(
    h('section', { class: 'view view-instances', 'aria-labelledby': 'inst-title' },
      h('div', { class: 'view-head' },
        h('h1', { id: 'inst-title' }, 'Instances'),
        h('div', { class: 'toolbar' }, checkAll)),
      listError,
      list,
      empty,
      form));

  function showError(name, text) {
    errors[name].textContent = text;
    errors[name].hidden = !text;
    const control = controls[name];
    if (control) {
      if (text) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    }
  }
  function clearErrors() { for (const name of Object.keys(errors)) showError(name, ''); }
  nameInput.addEventListener('input', () => showError('name', ''));
  sshInput.addEventListener('input', () => showError('ssh', ''));
  homeInput.addEventListener('input', () => showError('ui-home', ''));

  // An instance name from a pasted command: the host, when no name was typed.
  sshInput.addEventListener('change', () => {
    if (nameInput.value.trim()) return;
    const host = /@([A-Za-z0-9.-]+)/.exec(sshInput.value) || /ssh\s+(?:-\S+\s+\S+\s+)*([A-Za-z0-9.-]+)/.exec(sshInput.value);
    if (host) nameInput.placeholder = host[1];
  });

  async function onAdd(event) {
    event.preventDefault();
    clearErrors();
    const ssh = sshInput.value.trim();
    const name = nameInput.value.trim() || (nameInput.placeholder !== 'gpu-1' ? nameInput.placeholder : '');
    if (!ssh) { showError('ssh', 'Paste the ssh command that reaches the instance.'); sshInput.focus(); return; }
    if (!name) { showError('name', 'Give the instance a name.'); nameInput.focus(); return; }
    const body = { id: name, ssh_command: ssh };
    if (homeInput.value.trim()) body.ui_home = homeInput.value.trim();
    addButton.disabled = true;
    try {
      const created = await ctx.api.post('/api/v1/instances', body);
      if (!alive) return;
      ctx.toast(`Instance ${created.id} added`, 'ok');
      form.reset();
      nameInput.placeholder = 'gpu-1';
      await load();
      check(created.id);
    } catch (error) {
      if (!alive) return;
      const field = fieldOf(error);
      const text = error && error.status === 0 ? `The daemon is unreachable: ${error.message}` : String((error && error.message) || error);
      showError(field, text);
      if (controls[field]) controls[field].focus();
    } finally {
      addButton.disabled = false;
    }
  }

  // ---- rows ----------------------------------------------------------------

  function buildRow(instance) {
    const nameId = `inst-row-${++counter}`;
    const row = {
      element: h('li', { class: 'inst-row card', 'data-testid': 'instance-row', 'data-instance-id': instance.id }),
      name: h('span', { class: 'inst-name', id: nameId }),
      ssh: h('code', { class: 'inst-ssh mono' }),
      home: h('span', { class: 'inst-home mono muted' }),
      reach: h('span', { class: 'inst-reach', 'data-field': 'reachability', 'data-reachable': 'unknown', 'aria-live': 'polite' }),
      lastUsed: h('span', { class: 'inst-last muted', 'data-field': 'last-used' }),
      actions: h('div', { class: 'inst-actions' }),
      instance,
    };
    row.check = h('button', { type: 'button', class: 'btn btn-small', 'aria-describedby': nameId, on: { click: () => check(row.instance.id) } }, 'Check');
    row.remove = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-describedby': nameId, on: { click: () => askRemove(row) } }, 'Remove');
    row.actions.append(row.check, row.remove);
    row.element.append(
      h('div', { class: 'inst-main' },
        h('div', { class: 'inst-title' }, row.name, row.reach),
        h('div', { class: 'inst-detail' }, row.ssh),
        h('div', { class: 'inst-detail' }, row.home, row.lastUsed)),
      row.actions);
    return row;
  }

  function updateRow(row) {
    const instance = row.instance;
    row.name.textContent = instance.id;
    row.ssh.textContent = instance.ssh_command;
    row.home.textContent = `UI home ${instance.ui_home}`;
    row.lastUsed.textContent = instance.last_used_at ? `Last used ${when(instance.last_used_at)}` : 'Never used';
    if (instance.last_used_at) {
      try { row.lastUsed.title = formatTime(instance.last_used_at); } catch { /* no title */ }
    }
    const state = checks.get(instance.id);
    let reachable = 'unknown';
    let text = 'Unknown';
    if (state === 'checking') {
      text = 'Checking…';
    } else if (state && typeof state === 'object') {
      if (state.reachable === true) {
        reachable = 'true';
        text = Number.isFinite(state.latency_ms) ? `Reachable (${state.latency_ms} ms)` : 'Reachable';
      } else if (state.reachable === false) {
        reachable = 'false';
        text = state.error || 'Unreachable';
      } else if (state.failure) {
        text = `Check failed: ${state.failure}`;
      }
      if (state.checked_at) {
        try { row.reach.title = `Checked ${formatTime(state.checked_at)}`; } catch { /* no title */ }
      }
    } else if (checkMissing) {
      text = 'Unknown (this daemon cannot check)';
    }
    row.reach.dataset.reachable = reachable;
    row.reach.textContent = text;
    row.check.disabled = state === 'checking' || checkMissing;
  }

  function render() {
    const wanted = new Set();
    const ordered = [];
    for (const instance of instances) {
      wanted.add(instance.id);
      let row = rows.get(instance.id);
      if (!row) { row = buildRow(instance); rows.set(instance.id, row); }
      row.instance = instance;
      updateRow(row);
      ordered.push(row.element);
    }
    placeInOrder(list, ordered);
    for (const [id, row] of rows) {
      if (!wanted.has(id)) { row.element.remove(); rows.delete(id); }
    }
    empty.hidden = instances.length > 0;
    checkAll.hidden = instances.length === 0;
    checkAll.disabled = checkMissing;
  }

  async function check(id) {
    if (checkMissing) return;
    checks.set(id, 'checking');
    const row = rows.get(id);
    if (row) updateRow(row);
    let answer;
    try {
      answer = await ctx.api.post(`/api/v1/instances/${encodeURIComponent(id)}/check`, {});
    } catch (error) {
      if (error && (error.code === 'no_route' || error.code === 'method_not_allowed')) {
        checkMissing = true;
        answer = undefined;
      } else {
        answer = { failure: (error && error.message) || String(error) };
      }
    }
    if (!alive) return;
    if (answer === undefined) checks.delete(id);
    else checks.set(id, answer);
    if (checkMissing) render();
    else if (rows.get(id)) updateRow(rows.get(id));
  }

  function checkEvery() {
    for (const instance of instances) check(instance.id);
  }

  // ---- remove --------------------------------------------------------------

  function askRemove(row) {
    const id = row.instance.id;
    const question = h('span', { class: 'inst-confirm-text' }, `Remove ${id}?`);
    const yes = h('button', { type: 'button', class: 'btn btn-small btn-danger' }, 'Yes');
    const no = h('button', { type: 'button', class: 'btn btn-small' }, 'No');
    const box = h('div', { class: 'inst-confirm', role: 'group', 'aria-label': `Remove ${id}?` }, question, yes, no);
    const restore = () => {
      box.replaceWith(row.actions);
      row.remove.focus();
    };
    no.addEventListener('click', restore);
    box.addEventListener('keydown', (event) => { if (event.key === 'Escape') { event.preventDefault(); restore(); } });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      try {
        await ctx.api.del(`/api/v1/instances/${encodeURIComponent(id)}`);
        if (!alive) return;
        ctx.toast(`Instance ${id} removed`, 'ok');
        checks.delete(id);
        instances = instances.filter((i) => i.id !== id);
        render();
        const next = list.querySelector('button') || nameInput;
        next.focus();
      } catch (error) {
        if (!alive) return;
        box.replaceWith(row.actions);
        listError.textContent = `${id}: ${(error && error.message) || error}`;
        listError.hidden = false;
        row.remove.focus();
      }
    });
    listError.hidden = true;
    row.actions.replaceWith(box);
    no.focus();
  }

  // ---- load ----------------------------------------------------------------

  async function load() {
    try {
      const answer = await ctx.api.get('/api/v1/instances');
      if (!alive) return false;
      instances = (answer && answer.instances) || [];
      listError.hidden = true;
      render();
      return true;
    } catch (error) {
      if (!alive) return false;
      listError.textContent = `Instances could not be listed: ${(error && error.message) || error}`;
      listError.hidden = false;
      return false;
    }
  }

  load().then((ok) => { if (ok) checkEvery(); });

  return {
    unmount() {
      alive = false;
      container.replaceChildren();
    },
  };
}

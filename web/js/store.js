// Every job the daemon has, keyed by id: the REST job objects
// (GET /api/v1/jobs, items included) merged with the WebSocket "download"
// events. Changes are collected and subscribers are told once per animation
// frame: fn(changedIds: Set<string>, membership: boolean) where membership
// means jobs were added or removed.
import { api } from './api.js';

const byId = new Map();
const lastEventAt = new Map(); // id -> performance.now() of its last event
const listeners = new Set();
const fetching = new Set();
let order = null; // ids, newest first
let sorted = null; // the jobs in that order
let changed = new Set();
let membership = false;
let frame = 0;
let refreshing = null;
let refreshAgain = false;
let loaded = false;

const STATES = new Set(['queued', 'running', 'retrying', 'paused', 'completed', 'failed', 'cancelled']);

function schedule(id, structural) {
  if (id) changed.add(id);
  sorted = null;
  if (structural) {
    membership = true;
    order = null;
  }
  if (frame) return;
  const run = () => {
    frame = 0;
    const ids = changed;
    const m = membership;
    changed = new Set();
    membership = false;
    for (const fn of listeners) {
      try {
        fn(ids, m);
      } catch (err) {
        console.error(err);
      }
    }
  };
  // rAF does not run in a hidden tab; a timer keeps the data current there.
  frame = document.hidden ? setTimeout(run, 250) : requestAnimationFrame(run);
}

function put(job) {
  if (!job || typeof job.id !== 'string') return;
  const old = byId.get(job.id);
  if (!old) {
    byId.set(job.id, job);
    schedule(job.id, true);
    return;
  }
  if (old.created_at !== job.created_at) order = null;
  byId.set(job.id, job);
  schedule(job.id, false);
}

function remove(id) {
  if (!byId.delete(id)) return;
  lastEventAt.delete(id);
  schedule(id, true);
}

function itemState(status) {
  return status === 'downloading' ? 'running' : status;
}

// A WebSocket "download" event's data onto the job it is about.
function applyEvent(type, d) {
  if (!d || typeof d.jobId !== 'string') return;
  const id = d.jobId;
  lastEventAt.set(id, performance.now());
  const old = byId.get(id);
  const state = d.status === 'downloading' ? 'running' : d.status;
  const job = old
    ? { ...old }
    : {
        id,
        source: d.source || '',
        name: d.name || d.fileName || '',
        target: 'local',
        dest: '',
        group: '',
        created_at: new Date().toISOString(),
        items: [],
        labels: {},
        _partial: true,
      };
  if (STATES.has(state)) job.state = state;
  if (d.name) job.name = d.name;
  if (typeof d.overallProgress === 'number') job.progress = d.overallProgress;
  if (typeof d.bytesDownloaded === 'number') job.bytes_done = d.bytesDownloaded;
  if ('totalBytes' in d) job.bytes_total = d.totalBytes;
  if (typeof d.speed === 'number') job.speed = d.speed;
  if ('eta' in d) job.eta = d.eta;
  if (typeof d.attempt === 'number') job.attempts = d.attempt;
  if (typeof d.maxAttempts === 'number') job.max_attempts = d.maxAttempts;
  if ('nextAttemptAt' in d) job.next_attempt_at = d.nextAttemptAt;
  if ('error' in d) {
    job.error = d.error
      ? { ...(old && old.error), message: d.error, file: d.errorFile ?? null, stage: d.errorStage ?? null }
      : null;
  }
  if (Array.isArray(d.files)) {
    const before = job.items || [];
    job.items = d.files.map((f, index) => ({
      ...before[index],
      index,
      name: f.fileName,
      path: f.path || (before[index] && before[index].path) || null,
      size: f.size,
      bytes_done: f.bytesDownloaded,
      progress: f.progress,
      state: itemState(f.status),
    }));
  }
  if (type === 'complete') job.state = 'completed';
  put(job);
  if (!old) fetchJob(id);
}

// One job from the daemon (an unknown id from an event, or a check).
function fetchJob(id) {
  if (fetching.has(id)) return;
  fetching.add(id);
  const t0 = performance.now();
  api
    .get(`/api/v1/jobs/${encodeURIComponent(id)}`)
    .then((job) => mergeSnapshot(job, t0))
    .catch((err) => {
      if (err.status === 404) remove(id);
    })
    .finally(() => fetching.delete(id));
}

// A REST job, unless an event newer than the request already moved it:
// then only its descriptive fields are taken.
function mergeSnapshot(job, t0) {
  const old = byId.get(job.id);
  if (old && (lastEventAt.get(job.id) || 0) > t0) {
    const { state, progress, bytes_done, bytes_total, speed, eta, error, items, pending_action, ...rest } = job;
    const mergedItems = (old.items || []).map((it, i) => ({ ...(items || [])[i], ...it }));
    put({ ...old, ...rest, items: mergedItems.length ? mergedItems : items, _partial: false });
  } else {
    put(job);
  }
}

// Replaces the whole set with the daemon's list.
async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      const t0 = performance.now();
      const body = await api.get('/api/v1/jobs');
      const list = Array.isArray(body) ? body : (body && body.jobs) || [];
      const seen = new Set();
      for (const job of list) {
        seen.add(job.id);
        mergeSnapshot(job, t0);
      }
      for (const id of [...byId.keys()]) {
        if (!seen.has(id) && !((lastEventAt.get(id) || 0) > t0)) remove(id);
      }
      // The first answer is news even when it is empty: views leave "Loading".
      if (!loaded) schedule(null, true);
      loaded = true;
    } while (refreshAgain);
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
}

// Seed 000's /downloads/status entries: the stage text of remote jobs.
function applyQueueStatus(list) {
  if (!Array.isArray(list)) return;
  for (const entry of list) {
    const job = byId.get(entry && entry.id);
    const stage = entry.progress && entry.progress.stage;
    if (job && stage !== undefined && job.stage !== stage) put({ ...job, stage });
  }
}

// Newest first. The order is kept until jobs come or go; the array is
// rebuilt (not re-sorted) when job objects were replaced.
function all() {
  if (!order) {
    order = [...byId.values()]
      .sort((a, b) =>
        a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? 1 : -1,
      )
      .map((job) => job.id);
    sorted = null;
  }
  if (!sorted) sorted = order.map((id) => byId.get(id));
  return sorted;
}

export const jobs = {
  all,
  get: (id) => byId.get(id),
  get size() {
    return byId.size;
  },
  get loaded() {
    return loaded;
  },
  refresh,
  fetch: fetchJob,
  // A job (or list) from a REST answer; `requestedAt` (performance.now() when
  // the request was sent) keeps newer event state from being overwritten.
  put(job, requestedAt) {
    const one = (j) => (requestedAt === undefined ? put(j) : j && j.id && mergeSnapshot(j, requestedAt));
    if (Array.isArray(job)) job.forEach(one);
    else one(job);
  },
  applyEvent,
  applyQueueStatus,
  subscribe(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

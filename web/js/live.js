// The connection to the daemon. WebSocket first (/api/v1/ws, channels
// "download" and "models"); while it is down, GET /downloads/status and
// GET /api/v1/jobs every 2 s (seed 000) and the socket is retried with
// backoff (1 s .. 10 s). States: connecting, live, polling, offline.
// A socket only counts as live once the daemon confirmed the subscription,
// so a socket that opens but is blocked or mocked falls back to polling.
import { api, getToken, onToken } from './api.js';
import { jobs } from './store.js';

const POLL_MS = 2000;
const CONFIRM_MS = 4000;
const CONNECT_MS = 6000;
const RECONCILE_MS = 60000;

const listeners = { model: new Set(), connection: new Set() };
let state = 'connecting';
let ws = null;
let retryTimer = 0;
let backoff = 1000;
let polling = false;
let pollGen = 0; // a poll from an earlier polling period stops itself
let pollTimer = 0;
let reconcileTimer = 0;
let started = false;

function emit(type, value) {
  for (const fn of listeners[type]) {
    try {
      fn(value);
    } catch (err) {
      console.error(err);
    }
  }
}

function setState(next) {
  if (next === state) return;
  state = next;
  emit('connection', next);
}

function socketUrl() {
  const token = getToken();
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/api/v1/ws${token ? `?access_token=${encodeURIComponent(token)}` : ''}`;
}

function connect() {
  clearTimeout(retryTimer);
  retryTimer = 0;
  if (ws) return;
  let sock;
  try {
    if (typeof WebSocket !== 'function') throw new Error('no WebSocket');
    sock = new WebSocket(socketUrl());
  } catch {
    socketDown();
    return;
  }
  ws = sock;
  let confirmed = false;
  const giveUp = () => {
    if (ws === sock && !confirmed) {
      drop(sock);
      socketDown();
    }
  };
  let timer = setTimeout(giveUp, CONNECT_MS);
  sock.addEventListener('open', () => {
    clearTimeout(timer);
    timer = setTimeout(giveUp, CONFIRM_MS);
    try {
      sock.send(JSON.stringify({ subscribe: 'download' }));
      sock.send(JSON.stringify({ subscribe: 'models' }));
    } catch {
      /* closing; the close handler takes over */
    }
  });
  sock.addEventListener('message', (event) => {
    if (ws !== sock) return;
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.channel === 'download') {
      jobs.applyEvent(msg.type, msg.data);
    } else if (msg.channel === 'models') {
      emit('model', msg.data);
    } else if (msg.channel === 'system' && msg.type === 'subscribed' && !confirmed) {
      if (msg.data && msg.data.channel === 'download') {
        confirmed = true;
        clearTimeout(timer);
        becameLive();
      }
    }
  });
  sock.addEventListener('close', () => {
    clearTimeout(timer);
    if (ws !== sock) return;
    ws = null;
    socketDown();
  });
}

function drop(sock) {
  if (ws === sock) ws = null;
  try {
    sock.close();
  } catch {
    /* already closed */
  }
}

function becameLive() {
  backoff = 1000;
  stopPolling();
  setState('live');
  // Events may have been missed while the socket was down: take everything.
  jobs.refresh().catch(() => {});
  clearInterval(reconcileTimer);
  // Removed jobs send no event; an occasional full list catches them.
  reconcileTimer = setInterval(() => jobs.refresh().catch(() => {}), RECONCILE_MS);
}

function socketDown() {
  clearInterval(reconcileTimer);
  reconcileTimer = 0;
  startPolling();
  if (!retryTimer) {
    retryTimer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  }
}

function startPolling() {
  if (polling) return;
  polling = true;
  poll(++pollGen);
}

function stopPolling() {
  polling = false;
  clearTimeout(pollTimer);
  pollTimer = 0;
}

async function poll(gen) {
  clearTimeout(pollTimer);
  const [status, list] = await Promise.allSettled([api.get('/downloads/status'), jobs.refresh()]);
  if (!polling || gen !== pollGen) return;
  if (list.status === 'fulfilled') {
    if (status.status === 'fulfilled') jobs.applyQueueStatus(status.value);
    const wasOffline = state === 'offline' || state === 'connecting';
    setState('polling');
    // The daemon answers again: try the socket now rather than at the backoff.
    if (wasOffline && !ws) {
      backoff = 1000;
      connect();
    }
  } else if (list.reason && [0, 502, 503, 504].includes(list.reason.status)) {
    // No answer, or a proxy in front saying the daemon does not answer.
    setState('offline');
  } else {
    setState('polling');
  }
  if (polling && gen === pollGen) pollTimer = setTimeout(poll, POLL_MS, gen);
}

export const live = {
  // type "jobs": fn(changedIds, membership) once per frame; "model": data of
  // a models-channel event; "connection": the new state. Returns unsubscribe.
  on(type, fn) {
    if (type === 'jobs') return jobs.subscribe(fn);
    const set = listeners[type];
    if (!set) throw new Error(`unknown live event type ${type}`);
    set.add(fn);
    return () => set.delete(fn);
  },
  get state() {
    return state;
  },
  start() {
    if (started) return;
    started = true;
    // The socket opens once the first call has its answer: with --token, that
    // call is what asks for the token, so the socket never tries without it.
    jobs
      .refresh()
      .catch(() => {})
      .finally(connect);
    onToken(() => {
      // A new token: the socket (and the polls) use it from now on.
      if (ws) drop(ws);
      backoff = 1000;
      connect();
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && !ws && state !== 'live') connect();
    });
  },
};

// The stock socket.io-client (4.x, default options unless a test says
// otherwise) against haul's Socket.IO server: the scripted test server
// src/api/socketio/test_server.cpp, whose path comes in
// HAUL_SOCKETIO_TEST_SERVER. Run: npm ci --prefix tests/node, then
//   HAUL_SOCKETIO_TEST_SERVER=build/debug/src/api/socketio/haul_socketio_test_server \
//     node --test tests/node/socketio.test.mjs
// (CTest does both as socketio_node_client.) Only node:test and node:assert.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));
const clientInstalled = existsSync(join(here, 'node_modules', 'socket.io-client', 'package.json'));
const serverPath = process.env.HAUL_SOCKETIO_TEST_SERVER;
const kTestTimeout = 15000;

// Resolves with the result of `promise`, or rejects after `ms` saying what we waited for.
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function once(emitter, event, ms = 5000) {
  return within(ms, `'${event}'`, new Promise((resolve) => emitter.once(event, (...args) => resolve(args))));
}

async function until(what, predicate, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(20);
  }
}

// Starts the test server; resolves once it printed "PORT <n>".
function startServer(args = []) {
  const child = spawn(serverPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise((resolve, reject) => {
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /PORT (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`test server exited early (${code ?? signal})`)));
  });
  return within(5000, 'the test server to listen', ready).then((port) => ({
    child,
    url: `http://127.0.0.1:${port}`,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  }));
}

if (!clientInstalled) {
  const reason = 'HAUL_NODE_TESTS_SKIPPED: tests/node/node_modules is missing; run `npm ci --prefix tests/node`';
  console.log(reason);
  test('socket.io-client against haul', { skip: reason }, () => {});
} else {
  assert.ok(serverPath, 'set HAUL_SOCKETIO_TEST_SERVER to the haul_socketio_test_server binary');
  const { io } = await import('socket.io-client');

  const sockets = [];
  // A client that the test run closes in any case, so nothing keeps node alive.
  function client(url, options) {
    const socket = io(url, options);
    sockets.push(socket);
    return socket;
  }
  function closeAll() {
    while (sockets.length) sockets.pop().close();
  }

  let server;
  before(async () => {
    server = await startServer();
  });
  after(() => {
    closeAll();
    server?.stop();
  });

  test('/downloads delivers three progress events in order', { timeout: kTestTimeout }, async () => {
    const socket = client(`${server.url}/downloads`);
    const seen = [];
    const done = new Promise((resolve) => {
      socket.on('progress', (data) => {
        seen.push(data.n);
        if (seen.length === 3) resolve();
      });
    });
    await within(5000, 'three progress events', done);
    assert.deepEqual(seen, [1, 2, 3]);
    assert.ok(socket.connected);
    assert.equal(typeof socket.id, 'string');
    socket.close();
  });

  test('the transport upgrades from polling to websocket', { timeout: kTestTimeout }, async () => {
    const socket = client(server.url);
    await once(socket, 'connect');
    await until('the websocket upgrade', () => socket.io.engine?.transport?.name === 'websocket');
    // Still usable after the switch.
    const reply = await within(3000, 'the echo ack', new Promise((resolve) => socket.emit('echo', 'after-upgrade', resolve)));
    assert.equal(reply, 'after-upgrade');
    socket.close();
  });

  test('/resources rooms deliver install events to subscribers only', { timeout: kTestTimeout }, async () => {
    const record = (socket, log, job) =>
      new Promise((resolve) => {
        socket.onAny((event, data) => {
          log.push([event, data]);
          if (event === 'resource_install_complete' && data.job_id === job) resolve();
        });
      });
    const other = client(`${server.url}/resources`);
    const mine = client(`${server.url}/resources`);
    const otherLog = [];
    const mineLog = [];
    const otherDone = record(other, otherLog, 'job-b');
    const mineDone = record(mine, mineLog, 'job-a');
    await Promise.all([once(other, 'connect'), once(mine, 'connect')]);
    other.emit('subscribe_install', { job_id: 'job-b' });
    mine.emit('subscribe_install', { job_id: 'job-a' });
    await within(5000, 'both installs to complete', Promise.all([otherDone, mineDone]));
    assert.deepEqual(mineLog, [
      ['subscribed', { job_id: 'job-a' }],
      ['resource_install_progress', { type: 'progress', job_id: 'job-a', percent: 50 }],
      ['resource_install_complete', { success: true, job_id: 'job-a' }],
    ]);
    assert.deepEqual(otherLog.map(([event]) => event), [
      'subscribed',
      'resource_install_progress',
      'resource_install_complete',
    ]);
    for (const [, data] of otherLog) assert.equal(data.job_id, 'job-b');
    other.close();
    mine.close();
  });

  test('acks return the arguments on the main namespace', { timeout: kTestTimeout }, async () => {
    const socket = client(server.url);
    await once(socket, 'connect');
    const args = await within(
      3000,
      'the echo ack',
      new Promise((resolve) => socket.emit('echo', 1, 'two', { three: [true, null] }, (...reply) => resolve(reply))),
    );
    assert.deepEqual(args, [1, 'two', { three: [true, null] }]);
    const reply = await socket.timeout(3000).emitWithAck('echo', 'ü ✓ "quoted"');
    assert.equal(reply, 'ü ✓ "quoted"');
    socket.close();
  });

  test('a polling-only client works', { timeout: kTestTimeout }, async () => {
    const socket = client(`${server.url}/downloads`, { transports: ['polling'], forceNew: true });
    const seen = [];
    const done = new Promise((resolve) => {
      socket.on('progress', (data) => {
        seen.push(data.n);
        if (seen.length === 3) resolve();
      });
    });
    await within(5000, 'three progress events over polling', done);
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(socket.io.engine.transport.name, 'polling');
    socket.close();

    const main = client(server.url, { transports: ['polling'], forceNew: true });
    await once(main, 'connect');
    const reply = await within(3000, 'the echo ack', new Promise((resolve) => main.emit('echo', 'polled', resolve)));
    assert.equal(reply, 'polled');
    assert.equal(main.io.engine.transport.name, 'polling');
    main.close();
  });

  test('a websocket-only client works', { timeout: kTestTimeout }, async () => {
    const socket = client(server.url, { transports: ['websocket'], forceNew: true });
    await once(socket, 'connect');
    assert.equal(socket.io.engine.transport.name, 'websocket');
    const reply = await within(3000, 'the echo ack', new Promise((resolve) => socket.emit('echo', 'ws', resolve)));
    assert.equal(reply, 'ws');
    socket.close();
  });

  test('an unknown namespace gets connect_error "Invalid namespace"', { timeout: kTestTimeout }, async () => {
    const socket = client(`${server.url}/nope`);
    const [error] = await once(socket, 'connect_error');
    assert.equal(error.message, 'Invalid namespace');
    assert.equal(socket.connected, false);
    socket.close();
  });

  test('the server forgets clients that leave', { timeout: kTestTimeout }, async () => {
    const probe = client(server.url, { forceNew: true });
    await once(probe, 'connect');
    const count = () => probe.timeout(3000).emitWithAck('stats').then((stats) => stats.clients);
    const before = await count();
    const leavers = [
      client(server.url, { forceNew: true }),
      client(server.url, { forceNew: true, transports: ['polling'] }),
    ];
    await Promise.all(leavers.map((socket) => once(socket, 'connect')));
    assert.equal(await count(), before + 2);
    for (const socket of leavers) socket.close();
    const deadline = Date.now() + 5000;
    let now = await count();
    while (now !== before && Date.now() < deadline) {
      await delay(50);
      now = await count();
    }
    assert.equal(now, before);
    probe.close();
  });

  test('the heartbeat keeps clients connected (ping interval 300 ms)', { timeout: kTestTimeout }, async () => {
    const fast = await startServer(['--ping-interval-ms', '300', '--ping-timeout-ms', '200']);
    try {
      const upgraded = client(fast.url, { forceNew: true });
      const polling = client(fast.url, { forceNew: true, transports: ['polling'] });
      const disconnects = [];
      const pings = [0, 0];
      [upgraded, polling].forEach((socket, i) => {
        socket.on('disconnect', (reason) => disconnects.push(reason));
        socket.io.on('ping', () => pings[i]++);
      });
      await Promise.all([once(upgraded, 'connect'), once(polling, 'connect')]);
      // Four heartbeats each (a ping timeout is 200 ms: one missed pong would end it).
      await until('four pings on each client', () => pings[0] >= 4 && pings[1] >= 4, 10000);
      assert.deepEqual(disconnects, []);
      assert.ok(upgraded.connected && polling.connected);
      assert.equal(upgraded.io.engine.transport.name, 'websocket');
      upgraded.close();
      polling.close();
    } finally {
      fast.stop();
    }
  });

  // Engine.IO by hand (node's fetch), for what the client library hides.
  async function handshake(url) {
    const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.equal(body[0], '0', body);
    return JSON.parse(body.slice(1));
  }
  const pollUrl = (url, sid) => `${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;

  test('the handshake and polling follow Engine.IO v4', { timeout: kTestTimeout }, async () => {
    const open = await handshake(server.url);
    assert.deepEqual(open.upgrades, ['websocket']);
    assert.equal(open.pingInterval, 25000);
    assert.equal(open.pingTimeout, 20000);
    assert.equal(open.maxPayload, 1000000);
    const post = await fetch(pollUrl(server.url, open.sid), { method: 'POST', body: '40\x1e40/nope,' });
    assert.equal(await post.text(), 'ok');
    const reply = await (await fetch(pollUrl(server.url, open.sid))).text();
    const packets = reply.split('\x1e');
    assert.match(packets[0], /^40\{"sid":"[\w-]{20}"\}$/);
    assert.equal(packets[1], '44/nope,{"message":"Invalid namespace"}');
    // A second GET while one waits breaks the protocol: 400, and the session
    // ends, which answers the waiting one with a close packet. Which of the two
    // the server sees first is up to the network, so either may be the second.
    const get = () =>
      fetch(pollUrl(server.url, open.sid)).then(async (response) => ({ status: response.status, body: await response.text() }));
    const answers = await within(5000, 'both GETs to end', Promise.all([get(), get()]));
    const refused = answers.filter((answer) => answer.status === 400);
    assert.equal(refused.length, 1, JSON.stringify(answers));
    assert.deepEqual(JSON.parse(refused[0].body), { code: 3, message: 'Bad request' });
    assert.deepEqual(answers.find((answer) => answer.status !== 400), { status: 200, body: '1' });
    const unknown = await fetch(pollUrl(server.url, open.sid));
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), { code: 1, message: 'Session ID unknown' });
    const badVersion = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling`);
    assert.equal(badVersion.status, 400);
    const malformed = await handshake(server.url);
    const garbage = await fetch(pollUrl(server.url, malformed.sid), { method: 'POST', body: '4\x1e9' });
    assert.equal(garbage.status, 400);
  });

  test('a client more than 1024 packets behind is disconnected', { timeout: kTestTimeout }, async () => {
    const open = await handshake(server.url);
    await fetch(pollUrl(server.url, open.sid), { method: 'POST', body: '40/downloads,' });
    const driver = client(server.url, { forceNew: true });
    await once(driver, 'connect');
    const count = () => driver.timeout(3000).emitWithAck('stats').then((stats) => stats.clients);
    const before = await count();
    // The raw client never polls, so its queue only grows.
    await driver.timeout(5000).emitWithAck('broadcast', 1100);
    assert.equal(await count(), before - 1);
    const gone = await fetch(pollUrl(server.url, open.sid));
    assert.equal(gone.status, 400);
    assert.ok(driver.connected);
    driver.close();
  });

  test('the heartbeat drops a client that stops answering', { timeout: kTestTimeout }, async () => {
    const fast = await startServer(['--ping-interval-ms', '300', '--ping-timeout-ms', '200']);
    try {
      const watcher = client(fast.url, { forceNew: true });
      await once(watcher, 'connect');
      const count = () => watcher.timeout(3000).emitWithAck('stats').then((stats) => stats.clients);
      const open = await handshake(fast.url);
      await fetch(pollUrl(fast.url, open.sid), { method: 'POST', body: '40' });
      assert.equal(await count(), 2);
      // No more GETs: the ping is never read, so no pong comes back, and the
      // server drops the client (after 300 + 200 ms, or later on a slow machine).
      const deadline = Date.now() + 10000;
      let clients = await count();
      while (clients !== 1 && Date.now() < deadline) {
        await delay(50);
        clients = await count();
      }
      assert.equal(clients, 1);
      const gone = await fetch(pollUrl(fast.url, open.sid));
      assert.equal(gone.status, 400);
      assert.ok(watcher.connected);
      watcher.close();
    } finally {
      fast.stop();
    }
  });

  test('destroying the Socket.IO server disconnects its clients', { timeout: kTestTimeout }, async () => {
    const closing = await startServer(['--shutdown-after-ms', '1500']);
    try {
      const upgraded = client(closing.url, { forceNew: true });
      const polling = client(closing.url, { forceNew: true, transports: ['polling'] });
      await Promise.all([once(upgraded, 'connect'), once(polling, 'connect')]);
      await until('the websocket upgrade', () => upgraded.io.engine?.transport?.name === 'websocket');
      const [[wsReason], [pollReason]] = await within(
        5000,
        'both disconnects',
        Promise.all([once(upgraded, 'disconnect', 5000), once(polling, 'disconnect', 5000)]),
      );
      assert.equal(wsReason, 'transport close');
      assert.equal(pollReason, 'transport close');
      upgraded.close();
      polling.close();
      // The routes outlive the server object and refuse politely.
      const response = await fetch(`${closing.url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(response.status, 503);
    } finally {
      closing.stop();
    }
  });

  test('clients report disconnect when the server dies', { timeout: kTestTimeout }, async () => {
    const doomed = await startServer(['--ping-interval-ms', '300', '--ping-timeout-ms', '200']);
    try {
      const upgraded = client(doomed.url, { forceNew: true });
      const polling = client(doomed.url, { forceNew: true, transports: ['polling'] });
      await Promise.all([once(upgraded, 'connect'), once(polling, 'connect')]);
      await until('the websocket upgrade', () => upgraded.io.engine?.transport?.name === 'websocket');
      const gone = [once(upgraded, 'disconnect'), once(polling, 'disconnect')];
      doomed.child.kill('SIGKILL');
      const [[wsReason], [pollReason]] = await within(5000, 'both disconnects', Promise.all(gone));
      assert.match(wsReason, /transport (close|error)|ping timeout/);
      assert.match(pollReason, /transport (close|error)|ping timeout/);
      upgraded.close();
      polling.close();
    } finally {
      doomed.stop();
    }
  });
}

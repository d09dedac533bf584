// Real browsers in real calls through a two-node signald cluster: Redis, two
// nodes serving web/, coturn, and one headless chromium with fake devices.
// The cases run in order and share the cluster; each waits with a timeout.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Cluster, root } from './cluster.mjs';
import {
  closeBrowser, launch, mediaStats, openCall, report, waitConnected, waitFrames, waitJoined,
} from './browser.mjs';

const cluster = new Cluster();
const errors = []; // uncaught errors in any page: each one fails the run
const times = []; // ms from page load to `connected`, per peer connection
let ctx;
let n1;
let n2;
const pages = {};

function open(label, node, room, extra = {}, token = null) {
  const name = label[0].toUpperCase() + label.slice(1);
  return openCall(ctx, {
    http: node.http, room, token: token ?? cluster.token(label, name), extra, label, errors,
    logFile: join(cluster.dir, 'pages.log'), joined: token === null,
  });
}

// Waits until the page's session ended for `reason`, then checks that it
// stays ended (no reconnect attempt) and shows `notice`.
async function assertEnded(page, reason, notice) {
  await page.waitForFunction((r) => document.body.dataset.ended === r, reason, { timeout: 5000 });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await page.evaluate(() => document.body.dataset.signaling), 'ended');
  assert.match(await page.locator('#notice').innerText(), notice);
}

async function recordTimes(label, page) {
  for (const r of await report(page)) times.push({ page: label, peer: r.peer, connectedMs: r.connectedMs });
}

const tile = (page, peer) => page.locator(`.tile[data-peer="${peer}"]`);

describe('signald demo client in chromium', { timeout: 170000 }, () => {
  before(async () => {
    await cluster.startRedis();
    await cluster.startTurn();
    n1 = await cluster.startNode('node1');
    n2 = await cluster.startNode('node2');
    ctx = await launch();
  });

  after(async () => {
    if (ctx) await closeBrowser(ctx);
    const ends = await cluster.stopAll();
    console.log('connection times (ms from page load to connected):');
    for (const t of times) console.log(`  ${t.page} -> ${t.peer}: ${t.connectedMs}`);
    console.log(`logs: ${cluster.dir}`);
    // A node that does not stop cleanly on SIGTERM (or, in the sanitizer
    // build, reports a leak or an error) fails the run.
    for (const [name, end] of Object.entries(ends)) {
      if (name.startsWith('node')) cluster.assertCleanExit(name, end);
    }
    assert.deepEqual(errors, [], 'uncaught errors in pages');
  });

  test('three participants over two nodes connect and decode video', async () => {
    // alice on node1, bob and carol on node2, each with the other node to
    // fall back on (the later cases stop nodes under them).
    pages.alice = await open('alice', n1, 'class', { nodes: `${n1.ws},${n2.ws}` });
    pages.bob = await open('bob', n2, 'class', { nodes: `${n2.ws},${n1.ws}` });
    pages.carol = await open('carol', n2, 'class', { nodes: `${n2.ws},${n1.ws}` });
    for (const p of Object.values(pages)) await waitConnected(p, 2);
    for (const [label, p] of Object.entries(pages)) {
      await waitFrames(p);
      await recordTimes(label, p);
      assert.equal(await p.locator('#grid .tile').count(), 3);
    }
  });

  test('chat, media state and screen sharing reach the other pages', async () => {
    await pages.bob.fill('#chat-form input', 'hello from bob');
    await pages.bob.press('#chat-form input', 'Enter');
    for (const label of ['alice', 'carol']) {
      const line = pages[label].locator('#messages li[data-from="bob"]');
      await line.filter({ hasText: 'hello from bob' }).waitFor({ timeout: 5000 });
      assert.match(await line.innerText(), /^Bob/);
    }
    await pages.alice.click('#mic');
    await pages.carol.click('#cam');
    for (const label of ['bob', 'carol']) {
      await tile(pages[label], 'alice').and(pages[label].locator('[data-audio="off"]'))
        .waitFor({ timeout: 5000 });
    }
    for (const label of ['alice', 'bob']) {
      await tile(pages[label], 'carol').and(pages[label].locator('[data-video="off"]'))
        .waitFor({ timeout: 5000 });
    }
    // Screen sharing replaces the sent video track: no renegotiation, the
    // others keep decoding frames on the same connection.
    await pages.bob.click('#screen');
    for (const label of ['alice', 'carol']) {
      await tile(pages[label], 'bob').and(pages[label].locator('[data-screen="on"]'))
        .waitFor({ timeout: 5000 });
      await waitFrames(pages[label], await mediaStats(pages[label]));
    }
    // Saved under build/ on every run; SCREENSHOT=docs/call.png refreshes
    // the one the README shows.
    const shot = process.env.SCREENSHOT ? join(root, process.env.SCREENSHOT)
                                        : join(root, 'build/e2e/call.png');
    mkdirSync(dirname(shot), { recursive: true });
    await pages.alice.screenshot({ path: shot });
    await pages.bob.click('#screen');
    await pages.carol.click('#cam'); // camera back on for the next cases
    await tile(pages.alice, 'bob').and(pages.alice.locator('[data-screen="off"]')).waitFor({ timeout: 5000 });
    await tile(pages.bob, 'carol').and(pages.bob.locator('[data-video="on"]')).waitFor({ timeout: 5000 });
  });

  test('a page that closes disappears from the others', async () => {
    const dave = await open('dave', n1, 'class');
    await waitConnected(dave, 3);
    for (const p of Object.values(pages)) await waitConnected(p, 3);
    await recordTimes('dave', dave);
    await dave.close();
    for (const p of Object.values(pages)) {
      await tile(p, 'dave').waitFor({ state: 'detached', timeout: 5000 });
      await waitConnected(p, 2);
    }
  });

  test('a page whose node is killed reconnects through the other; calls stay up', async () => {
    const remember = () => {
      window.keptPcs = new Map([...window.demo.peers].map(([id, p]) => [id, p.pc]));
    };
    for (const p of Object.values(pages)) await p.evaluate(remember);
    const before = await mediaStats(pages.alice);
    const t0 = Date.now();
    await cluster.kill('node1');
    await waitJoined(pages.alice, 2);
    console.log(`SIGKILL: alice back through node2 in ${Date.now() - t0} ms`);
    assert.match(await pages.alice.locator('#status').innerText(), new RegExp(`via 127.0.0.1:${n2.port}`));
    // Let the renegotiation that follows a reconnect run, then check that
    // the very same connections are still connected and carry video.
    await new Promise((r) => setTimeout(r, 2000));
    const same = () => [...window.demo.peers].every(([id, p]) =>
      p.pc === window.keptPcs.get(id) && p.pc.connectionState === 'connected');
    for (const [label, p] of Object.entries(pages)) {
      assert.ok(await p.evaluate(same), `${label} kept its peer connections`);
      assert.equal((await report(p)).length, 2, `${label} still sees two peers`);
    }
    await waitFrames(pages.alice, before);
    // And signaling works through the new node.
    await pages.alice.fill('#chat-form input', 'alice is back');
    await pages.alice.press('#chat-form input', 'Enter');
    await pages.bob.locator('#messages li', { hasText: 'alice is back' }).waitFor({ timeout: 5000 });
  });

  test('relay only: the call connects through TURN', async () => {
    n1 = await cluster.startNode('node1', n1.port); // back on its old port
    const erin = await open('erin', n1, 'relayroom', { relay: '1' });
    const frank = await open('frank', n2, 'relayroom', { relay: '1' });
    const servers = await erin.evaluate(() => window.demo.iceServers);
    const turn = servers.find((s) => String(s.urls).startsWith('turn:'));
    assert.ok(turn, `a TURN server in ice_servers: ${JSON.stringify(servers)}`);
    assert.match(turn.username, /^\d+:erin$/);
    for (const p of [erin, frank]) {
      await waitConnected(p, 1);
      const stats = await waitFrames(p);
      for (const s of Object.values(stats)) {
        assert.equal(s.local, 'relay');
        assert.equal(s.remote, 'relay');
      }
    }
    await recordTimes('erin (relay)', erin);
    await recordTimes('frank (relay)', frank);
    pages.erin = erin;
    pages.frank = frank;
  });

  test('a second page of the same participant takes over the call', async () => {
    const erin2 = await open('erin', n2, 'relayroom', { relay: '1' });
    // The first page is told it was replaced and does not come back.
    await assertEnded(pages.erin, 'replaced', /opened again elsewhere/);
    await waitConnected(erin2, 1);
    await waitConnected(pages.frank, 1);
    await waitFrames(erin2);
    await recordTimes('erin (second page)', erin2);
    pages.erin = erin2;
  });

  test('glare: offers that cross are settled and the call stays up', async () => {
    const { erin, frank } = pages;
    const ids = async () => [(await report(erin))[0].pcId, (await report(frank))[0].pcId];
    const before = await ids();
    // Frank holds back what the server sends him, so that erin's offer is
    // still unread when he makes his own: both sides see a collision.
    await frank.evaluate(() => {
      const sig = window.demo.signaling;
      const receive = sig.receive;
      const held = [];
      sig.receive = (ws, data) => held.push([ws, data]);
      window.release = () => {
        sig.receive = receive;
        for (const [ws, data] of held) receive.call(sig, ws, data);
      };
      window.heldCount = () => held.length;
    });
    await erin.evaluate(() => window.demo.renegotiate('frank'));
    await frank.waitForFunction(() => window.heldCount() > 0, null, { timeout: 5000 });
    await frank.evaluate(() => window.demo.renegotiate('erin'));
    await erin.waitForFunction(() => window.demo.peers.get('frank').collisions > 0, null,
      { timeout: 5000 });
    await frank.evaluate(() => window.release());
    for (const [p, other] of [[erin, 'frank'], [frank, 'erin']]) {
      await p.waitForFunction((id) => {
        const r = window.demo.report()[0];
        return r.peer === id && r.collisions > 0 && r.signaling === 'stable' && r.state === 'connected';
      }, other, { timeout: 5000 });
    }
    assert.deepEqual(await ids(), before, 'the same peer connections');
    await waitFrames(frank, await mediaStats(frank));
    await erin.close();
    await frank.close();
  });

  test('a node that shuts down (SIGTERM, 1001) sends its pages to the other at once', async () => {
    const { alice, bob, carol } = pages;
    const joins = {};
    for (const [label, p] of Object.entries({ alice, bob, carol })) {
      joins[label] = await p.evaluate(() => {
        window.keptPcs = new Map([...window.demo.peers].map(([id, p]) => [id, p.pc]));
        window.statuses = [];
        window.demo.signaling.addEventListener('status', ({ detail }) => window.statuses.push(detail));
        return window.demo.joins;
      });
    }
    const t0 = Date.now();
    const stopped = cluster.stop('node2');
    for (const [label, p] of Object.entries({ alice, bob, carol })) {
      await waitJoined(p, joins[label] + 1, 5000);
      const waits = await p.evaluate(() => window.statuses.filter((s) => s.status === 'waiting'));
      assert.deepEqual(waits.map((s) => [s.code, s.delayMs]), [[1001, 0]], `${label} retried at once`);
    }
    const rejoinedMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
    for (const [label, p] of Object.entries({ alice, bob, carol })) {
      assert.ok(await p.evaluate(() => [...window.demo.peers].every(([id, p]) =>
        p.pc === window.keptPcs.get(id) && p.pc.connectionState === 'connected')), label);
    }
    cluster.assertCleanExit('node2', await stopped);
    console.log(`SIGTERM: all pages back in ${rejoinedMs} ms; node2 exited after ${Date.now() - t0} ms`);
  });

  test('refusals end the session without retrying: bad token, full room', async () => {
    const bad = await open('mallory', n1, 'class', {}, 'not-a-jwt');
    await assertEnded(bad, 'unauthorized', /token was refused/);
    // A node whose rooms hold one person; LiveKit stays at its default URL,
    // so the refusal carries a LiveKit offer.
    const n3 = await cluster.startNode('node3', undefined, { WEBRTC_MAX_PARTICIPANTS: '1' });
    const first = await open('gina', n3, 'tiny');
    const second = await open('hank', n3, 'tiny', {}, cluster.token('hank', 'Hank'));
    await assertEnded(second, 'room_full', /room is full[^]*LiveKit: http:\/\/localhost:7880/);
    assert.equal((await report(first)).length, 0);
    await bad.close();
    await second.close();
    await first.close();
  });
});

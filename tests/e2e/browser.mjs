// browser.mjs: Debian's chromium driven by playwright-core, with fake camera
// and microphone, and the helpers the tests use to read a call page's state
// (window.demo, see web/app.js).

import { chromium } from 'playwright-core';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// The flags known to work here (PLATFORM.md): fake devices, no permission
// prompts, no sandbox (we run as root in CI), no network chatter, and
// WebRTC allowed to use loopback addresses.
const FLAGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
];

const profiles = new Map(); // browser context -> its profile directory

// A fresh profile every run, so no state leaks between runs (closeBrowser
// removes it). Throws (and the tests fail) when chromium cannot start:
// there is no skipping.
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'signald-e2e-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 720 },
    timeout: 30000,
  }).catch((err) => {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  });
  profiles.set(ctx, profile);
  return ctx;
}

// Closes the browser, waiting at most timeoutMs (a browser that hangs is
// killed with this process), then removes its profile.
export async function closeBrowser(ctx, timeoutMs = 10000) {
  await Promise.race([ctx.close(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  try {
    rmSync(profiles.get(ctx), { recursive: true, force: true, maxRetries: 5 });
  } catch (err) {
    console.warn(`could not remove the chromium profile: ${err.message}`);
  }
}

// Opens the call page for one participant and (unless joined is false)
// waits until it has joined. The page's console goes to logFile; uncaught
// page errors are collected.
export async function openCall(ctx, { http, room, token, extra = {}, logFile, errors, label,
  joined = true }) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  page.on('console', (m) => appendFileSync(logFile, `[${label}] ${m.type()}: ${m.text()}\n`));
  page.on('pageerror', (err) => errors.push(`[${label}] ${err.message}`));
  const query = new URLSearchParams({ room, token, ...extra });
  await page.goto(`${http}/?${query}`, { timeout: 10000 });
  if (joined) await waitJoined(page);
  return page;
}

export function waitJoined(page, minJoins = 1, timeout = 15000) {
  return page.waitForFunction(
    (n) => document.body.dataset.signaling === 'joined' && window.demo.joins >= n,
    minJoins, { timeout, polling: 100 });
}

// Waits until the page has exactly `peers` peer connections, all connected.
// A timeout says where each connection got to (state, signaling state,
// history), so that a failed run can be read from its output.
export async function waitConnected(page, peers, timeout = 20000) {
  try {
    await page.waitForFunction((n) => {
      const r = window.demo.report();
      return r.length === n && r.every((p) => p.state === 'connected');
    }, peers, { timeout, polling: 100 });
  } catch (err) {
    const seen = await page.evaluate(() => window.demo.report()).catch(() => 'unreadable');
    throw new Error(`${err.message}; peers: ${JSON.stringify(seen)}`);
  }
}

export const report = (page) => page.evaluate(() => window.demo.report());

// Per peer: video frames decoded so far, the remote video's width, and the
// candidate types of the selected ICE pair.
export function mediaStats(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const [id, peer] of window.demo.peers) {
      const stats = await peer.pc.getStats();
      let frames = 0;
      let pairId = null;
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
        if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      });
      const pair = pairId && stats.get(pairId);
      const video = document.querySelector(`.tile[data-peer="${id}"] video`);
      out[id] = {
        framesDecoded: frames,
        videoWidth: video?.videoWidth ?? 0,
        local: pair ? stats.get(pair.localCandidateId)?.candidateType : null,
        remote: pair ? stats.get(pair.remoteCandidateId)?.candidateType : null,
      };
    }
    return out;
  });
}

// Waits until every peer connection of the page has decoded video frames
// (more than `after[peer]` of them, when given).
export async function waitFrames(page, after = {}, timeout = 15000) {
  const until = Date.now() + timeout;
  for (;;) {
    const stats = await mediaStats(page);
    const ok = Object.entries(stats).every(([id, s]) =>
      s.framesDecoded > (after[id]?.framesDecoded ?? 0) && s.videoWidth > 0);
    if (ok && Object.keys(stats).length) return stats;
    if (Date.now() > until) throw new Error(`no decoded video: ${JSON.stringify(stats)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

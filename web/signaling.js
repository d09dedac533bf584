// signaling.js: the signald wire protocol (PROTOCOL.md) for browsers, with
// no UI and no WebRTC in it, so that any frontend can reuse it.
//
// A SignalingClient keeps one WebSocket to a signald node open: it connects,
// reconnects after drops (at once to the next node after a 1001 "going away",
// with jittered exponential backoff otherwise), stops for good when the
// server says retrying is pointless (replaced, unauthorized, forbidden,
// room_full), and turns every server frame into an event named after its
// `type` (event.detail is the parsed message).
//
// Events: one per message type ("room_state", "peer_joined", "offer", ...),
// "message" for every frame, "status" whenever the connection state changes
// (detail: {status, url, attempt, delayMs, code}), and "ended" once when the
// client stops for good (detail: {reason, code, message, livekit}).

export const Close = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  REPLACED: 4000,
  UNAUTHORIZED: 4001,
  FORBIDDEN: 4003,
  ROOM_FULL: 4008,
  RATE_LIMITED: 4029,
});

// Close codes after which reconnecting cannot help: the reason the UI shows.
const FINAL = new Map([
  [Close.REPLACED, 'replaced'],
  [Close.UNAUTHORIZED, 'unauthorized'],
  [Close.FORBIDDEN, 'forbidden'],
  [Close.ROOM_FULL, 'room_full'],
]);

// PROTOCOL.md section 1: room ids are taken as they stand, so a client must
// not send anything it would have to percent-encode.
export const ROOM_ID = /^[A-Za-z0-9_.-]{1,128}$/;

// The WebSocket URLs of a room: one per node base ("ws://host:port"), or the
// page's own origin when no base is given.
export function roomUrls(room, token, bases = []) {
  if (!ROOM_ID.test(room)) throw new Error(`invalid room id: ${room}`);
  if (!bases.length) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    bases = [`${scheme}//${location.host}`];
  }
  return bases.map((b) => `${b.replace(/\/+$/, '')}/ws/webrtc/${room}/${token}`);
}

export class SignalingClient extends EventTarget {
  // urls: one or more WebSocket URLs of the same room (see roomUrls); they are
  // tried in turn, moving to the next one whenever a connection is lost.
  constructor(urls, { baseDelayMs = 500, maxDelayMs = 10000, openTimeoutMs = 10000,
    pingEveryMs = 20000 } = {}) {
    super();
    this.urls = urls;
    this.opts = { baseDelayMs, maxDelayMs, openTimeoutMs, pingEveryMs };
    this.index = 0;
    this.attempt = 0; // failed attempts since the last room_state
    this.status = 'idle'; // idle | connecting | joined | waiting | ended
    this.ws = null;
    this.timer = null;
    this.pinger = null;
    this.lastError = null; // the error frame that precedes a 4xxx close
    this.lastHeard = 0;
  }

  connect() {
    if (this.status !== 'idle' && this.status !== 'waiting') return;
    clearTimeout(this.timer);
    const url = this.urls[this.index % this.urls.length];
    const ws = new WebSocket(url);
    this.ws = ws;
    this.lastError = null;
    this.setStatus('connecting', { url });
    // A node that accepts TCP but never answers must not stall us forever.
    this.timer = setTimeout(() => this.drop(ws, 'open timeout'), this.opts.openTimeoutMs);
    ws.onmessage = (ev) => this.receive(ws, ev.data);
    ws.onclose = (ev) => this.closed(ws, ev.code, ev.reason);
    // onerror is always followed by onclose, which does the work.
  }

  // Leaves the room: a clean close (1000) makes the server drop us at once,
  // without the grace period it gives to a socket that merely vanished.
  close() {
    const ws = this.ws;
    this.finish('closed', Close.NORMAL);
    if (ws) ws.close(Close.NORMAL, 'bye');
  }

  // Sends one message; false when there is no open socket to send it on
  // (messages are not queued: after a reconnect room_state resynchronises).
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  // Relayed signals: extra fields (sdp, candidate, ...) pass through the
  // server unchanged.
  signal(type, target, fields) { return this.send({ ...fields, type, target }); }
  mediaState(fields) { return this.send({ ...fields, type: 'media_state' }); }
  chat(content) { return this.send({ type: 'chat', content }); }

  // ---- internals ----

  setStatus(status, extra = {}) {
    this.status = status;
    this.emit('status', { status, attempt: this.attempt, ...extra });
  }

  emit(name, detail) { this.dispatchEvent(new CustomEvent(name, { detail })); }

  receive(ws, data) {
    if (ws !== this.ws) return;
    let msg;
    try { msg = JSON.parse(data); } catch { return; }
    if (!msg || typeof msg.type !== 'string') return;
    this.lastHeard = Date.now();
    if (msg.type === 'room_state') {
      // Joined: the next drop starts its backoff from scratch.
      clearTimeout(this.timer);
      this.attempt = 0;
      this.setStatus('joined', { url: ws.url });
      this.startPinging(ws);
    } else if (msg.type === 'error') {
      this.lastError = msg;
    }
    this.emit('message', msg);
    this.emit(msg.type, msg);
  }

  // Application pings, because a dead node behind a half-open TCP connection
  // (no RST ever arrives) would otherwise look alive until the OS gives up.
  startPinging(ws) {
    clearInterval(this.pinger);
    this.pinger = setInterval(() => {
      if (Date.now() - this.lastHeard > 2.5 * this.opts.pingEveryMs) this.drop(ws, 'silent');
      else this.send({ type: 'ping', ts: Date.now() });
    }, this.opts.pingEveryMs);
  }

  // Gives up on a socket without waiting for its close handshake.
  drop(ws, why) {
    if (ws !== this.ws) return;
    ws.onmessage = ws.onclose = null;
    try { ws.close(); } catch { /* already closing */ }
    this.closed(ws, 1006, why);
  }

  closed(ws, code, reason) {
    if (ws !== this.ws) return;
    const joined = this.status === 'joined';
    this.ws = null;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.status === 'ended') return;
    const final = FINAL.get(code);
    if (final) {
      this.finish(final, code, reason);
      return;
    }
    // Every loss moves on to the next node: the one we had may be gone.
    this.index++;
    this.attempt++;
    // 1001: the node is shutting down on purpose and the others are fine.
    // Only a joined socket gets the instant retry, so that a draining node
    // refusing new joins with 1001 cannot make us spin.
    const delayMs = code === Close.GOING_AWAY && joined ? 0 : this.backoff();
    this.setStatus('waiting', { code, delayMs });
    this.timer = setTimeout(() => this.connect(), delayMs);
  }

  // Exponential backoff with "equal jitter": never zero, never in lockstep
  // with the other clients that lost the same node.
  backoff() {
    const { baseDelayMs, maxDelayMs } = this.opts;
    const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(this.attempt - 1, 16));
    return Math.round(cap / 2 + Math.random() * (cap / 2));
  }

  finish(reason, code, message) {
    if (this.status === 'ended') return;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    this.ws = null;
    const err = this.lastError || {};
    this.setStatus('ended', { code });
    this.emit('ended', { reason, code, message: err.message || message, livekit: err.livekit });
  }
}

// app.js: the demo call page. A mesh: one RTCPeerConnection per other
// participant, negotiated through signald (see signaling.js for the wire).
//
// Who offers: of two participants, the one listed first in `participants`
// (oldest join first, a reconnecting member keeps its place). So existing
// members offer to a newcomer and the newcomer only answers. Should both
// sides offer at once anyway (glare), the "perfect negotiation" rules
// settle it: the polite side rolls its offer back and takes the other one.
//
// Every relayed signal carries `pc`, a random id of the sender's
// RTCPeerConnection, and `to_pc`, the receiver's one when known. The server
// passes such fields through untouched; with them a page tells a signal for
// its current connection from a stale one, and notices when the other side
// started over with a new connection (a reloaded page, for instance).
//
// URL parameters: room, token, nodes (comma-separated ws:// bases to rotate
// through), relay=1 (TURN only).

import { SignalingClient, roomUrls, ROOM_ID } from './signaling.js';

const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);
const relayOnly = params.get('relay') === '1';

// Everything the page knows. Exposed as window.demo for the console and
// the browser tests.
const app = {
  me: null,
  participants: [], // the latest list from the server
  iceServers: [],
  maxParticipants: null,
  peers: new Map(), // peer_id -> peer (see peerFor)
  selfTile: null, // our own picture
  local: null, // camera + microphone MediaStream, or null without devices
  screen: null, // the screen-share video track while sharing
  media: { audio: false, video: false, screen_sharing: false },
  signaling: null,
  joins: 0, // room_state frames received: more than one means reconnects
  report, // per-connection states and times, see below
  renegotiate, // offers again to one peer, as a change of media would
};
window.demo = app;

const randomId = () => Math.random().toString(36).slice(2, 10);

// ---- Starting ----

async function start() {
  const room = params.get('room') || '';
  const token = params.get('token') || '';
  if (!ROOM_ID.test(room) || !token) {
    showJoinForm(room);
    return;
  }
  const bases = (params.get('nodes') || '').split(',').map((s) => s.trim()).filter(Boolean);
  $('#room-label').textContent = `room ${room}${relayOnly ? ' (TURN relay only)' : ''}`;
  $('#call').hidden = $('#controls').hidden = false;
  await openLocalMedia();

  const sig = new SignalingClient(roomUrls(room, token, bases));
  app.signaling = sig;
  sig.addEventListener('status', ({ detail }) => showStatus(detail));
  sig.addEventListener('ended', ({ detail }) => onEnded(detail));
  sig.addEventListener('room_state', ({ detail }) => onRoomState(detail));
  sig.addEventListener('peer_joined', ({ detail }) => onPeerJoined(detail));
  sig.addEventListener('peer_left', ({ detail }) => onPeerLeft(detail));
  for (const type of ['offer', 'answer', 'ice_candidate']) {
    sig.addEventListener(type, ({ detail }) => onSignal(detail));
  }
  sig.addEventListener('media_state', ({ detail }) => showMedia(tileOf(detail.peer_id), detail));
  sig.addEventListener('chat', ({ detail }) => showChat(detail));
  sig.addEventListener('error', ({ detail }) => console.warn('signald:', detail.code, detail.message));
  // A clean close makes the others drop our tile now, not after the grace period.
  addEventListener('pagehide', () => sig.close());
  sig.connect();
}

function showJoinForm(room) {
  const form = $('#join');
  form.hidden = false;
  if (room) form.room.value = room;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    // Keep the other parameters (nodes, relay); the page starts over with these.
    params.set('room', form.room.value.trim());
    params.set('token', form.token.value.trim());
    location.search = params.toString();
  });
}

// Camera and microphone if we can have them, fewer if not, none at worst:
// a participant without devices still sees and hears the others.
async function openLocalMedia() {
  for (const want of [{ audio: true, video: true }, { video: true }, { audio: true }]) {
    try {
      app.local = await navigator.mediaDevices.getUserMedia(want);
      break;
    } catch (err) {
      console.warn('getUserMedia', want, err.name);
    }
  }
  app.media.audio = Boolean(app.local?.getAudioTracks().length);
  app.media.video = Boolean(app.local?.getVideoTracks().length);
  $('#mic').setAttribute('aria-pressed', app.media.audio);
  $('#cam').setAttribute('aria-pressed', app.media.video);
  const tile = makeTile(null, 'You');
  app.selfTile = tile;
  tile.classList.add('self');
  tile.querySelector('video').muted = true; // never play our own microphone
  tile.querySelector('video').srcObject = app.local;
  tile.dataset.state = 'local';
  showMedia(tile, app.media);
}

// The track we send for a kind: the shared screen replaces the camera.
function localTrack(kind) {
  if (kind === 'video' && app.screen) return app.screen;
  return app.local?.getTracks().find((t) => t.kind === kind) || null;
}

// ---- Room membership ----

// True when `a` makes the offers to `b`: it was in the room first.
function offersTo(a, b) {
  const order = app.participants.map((p) => p.peer_id);
  const ia = order.indexOf(a), ib = order.indexOf(b);
  return ia >= 0 && ib >= 0 ? ia < ib : a < b;
}

const isLive = (peer) => peer.pc && !['failed', 'closed'].includes(peer.pc.connectionState);

function onRoomState(msg) {
  app.joins++;
  app.me = msg.your_id;
  app.iceServers = msg.ice_servers || [];
  app.maxParticipants = msg.max_participants;
  app.participants = msg.participants || [];
  if (relayOnly && !app.iceServers.some((s) => String(s.urls).includes('turn'))) {
    console.warn('relay=1 but the server offers no TURN server: no call can connect');
  }
  const listed = new Set(app.participants.map((p) => p.peer_id));
  // After a reconnect: whoever left meanwhile is gone; the rest keep their
  // RTCPeerConnection, which never depended on the signaling socket.
  for (const peer of app.peers.values()) if (!listed.has(peer.id)) dropPeer(peer);
  for (const p of app.participants) {
    if (p.peer_id === app.me) {
      setName(app.selfTile, p.name, ' (you)');
      continue;
    }
    const peer = peerFor(p.peer_id, p);
    if (p.media) showMedia(peer.tile, p.media);
    if (peer.pc) refreshIceServers(peer.pc);
    if (!offersTo(app.me, peer.id)) continue; // they offer to us
    // A kept connection is renegotiated once: it costs one round trip and
    // finds out whether the other side still has it (see onSignal).
    run(peer, isLive(peer) ? () => makeOffer(peer) : () => call(peer));
  }
  // The record outlives reconnects, but the state may have changed meanwhile.
  app.signaling.mediaState(app.media);
}

function onPeerJoined(msg) {
  app.participants = msg.participants || app.participants;
  const peer = peerFor(msg.peer_id, msg.peer_info);
  const media = app.participants.find((p) => p.peer_id === peer.id)?.media;
  if (media) showMedia(peer.tile, media); // kept across a reconnect
  if (!offersTo(app.me, peer.id)) return;
  // A member back from a signaling drop still has its connection: keep
  // ours and renegotiate it (which also resyncs a page that was reloaded).
  run(peer, msg.reconnected && isLive(peer) ? () => makeOffer(peer) : () => call(peer));
}

function onPeerLeft(msg) {
  app.participants = msg.participants || app.participants;
  const peer = app.peers.get(msg.peer_id);
  if (peer) dropPeer(peer);
}

// ---- Peers ----

function peerFor(id, info = {}) {
  let peer = app.peers.get(id);
  if (!peer) {
    peer = {
      id,
      pc: null,
      pcId: null, // our connection's id, sent as `pc`
      remotePcId: null, // theirs, learnt from their signals
      polite: app.me > id, // of two colliding offers, the polite side yields
      makingOffer: false,
      ignoreOffer: false,
      collisions: 0, // offers that crossed ours (glare), for diagnostics
      pending: [], // ICE candidates that came before their description
      chain: Promise.resolve(), // signaling steps run one at a time
      tile: makeTile(id, info.name || id),
      connectedMs: null,
      history: [], // [{pcId, connectedMs}] of every connection with this peer
    };
    app.peers.set(id, peer);
  }
  if (info.name) setName(peer.tile, info.name);
  return peer;
}

// Runs one asynchronous signaling step after the previous ones for the same
// peer: WebRTC calls must not interleave (an answer before its offer is set).
// Steps queued for a peer that has left since are skipped.
function run(peer, step) {
  peer.chain = peer.chain
    .then(() => (peer.gone ? undefined : step()))
    .catch((err) => console.warn(`peer ${peer.id}:`, err));
  return peer.chain;
}

function dropPeer(peer) {
  peer.gone = true;
  closePc(peer);
  peer.tile.remove();
  app.peers.delete(peer.id);
}

function closePc(peer) {
  if (!peer.pc) return;
  peer.pc.close();
  peer.pc = null;
}

function openPc(peer) {
  closePc(peer);
  const pc = new RTCPeerConnection({
    iceServers: app.iceServers,
    iceTransportPolicy: relayOnly ? 'relay' : 'all',
  });
  peer.pc = pc;
  peer.pcId = randomId();
  peer.remotePcId = null;
  peer.connectedMs = null;
  const stream = new MediaStream();
  const video = peer.tile.querySelector('video');
  video.srcObject = stream;
  // Handlers check `pc === peer.pc`: a replaced connection may still fire.
  pc.onicecandidate = ({ candidate }) => {
    if (candidate && pc === peer.pc) send(peer, 'ice_candidate', { candidate: candidate.toJSON() });
  };
  pc.ontrack = ({ track }) => {
    stream.addTrack(track);
    play(video);
  };
  pc.onnegotiationneeded = () => run(peer, () => makeOffer(peer));
  pc.onconnectionstatechange = () => {
    if (pc !== peer.pc) return;
    const state = pc.connectionState;
    peer.tile.dataset.state = state;
    peer.tile.querySelector('.state').textContent = state === 'connected' ? '' : state;
    if (state === 'connected' && peer.connectedMs === null) {
      // Milliseconds since this page started loading.
      peer.connectedMs = Math.round(performance.now());
      peer.history.push({ pcId: peer.pcId, connectedMs: peer.connectedMs });
    }
    // A network change can break ICE while signaling still works: the
    // offering side restarts it (one side only, to avoid needless glare).
    if (state === 'failed' && offersTo(app.me, peer.id)) pc.restartIce();
  };
  return pc;
}

// Starts a fresh connection to a peer, as the offering side: adding the
// transceivers fires negotiationneeded, which makes the offer.
async function call(peer) {
  openPc(peer);
  await attachMedia(peer);
}

// Sends our current tracks on one audio and one video transceiver, made
// here on the offering side and by the remote offer on the answering side.
// Transceivers exist even without devices, so that we still receive.
async function attachMedia(peer) {
  const pc = peer.pc;
  for (const kind of ['audio', 'video']) {
    let tr = pc.getTransceivers().find((t) => t.receiver.track.kind === kind && !t.stopped);
    if (!tr) tr = pc.addTransceiver(kind, { direction: 'sendrecv' });
    else if (tr.direction !== 'sendrecv') tr.direction = 'sendrecv';
    const track = localTrack(kind);
    if (tr.sender.track !== track) await tr.sender.replaceTrack(track);
  }
}

function send(peer, type, fields) {
  app.signaling.signal(type, peer.id, { ...fields, pc: peer.pcId, to_pc: peer.remotePcId ?? undefined });
}

async function makeOffer(peer) {
  const pc = peer.pc;
  // Not stable: an answer is owed first; negotiationneeded fires again later.
  if (!pc || pc.signalingState !== 'stable') return;
  peer.makingOffer = true;
  try {
    await pc.setLocalDescription();
    if (pc === peer.pc) send(peer, 'offer', { sdp: pc.localDescription.sdp });
  } finally {
    peer.makingOffer = false;
  }
}

function refreshIceServers(pc) {
  // New TURN credentials come with every room_state; ICE restarts use them.
  try {
    pc.setConfiguration({ ...pc.getConfiguration(), iceServers: app.iceServers });
  } catch (err) {
    console.warn('setConfiguration', err);
  }
}

// ---- Relayed signals ----

function onSignal(msg) {
  const id = msg.from_peer;
  // The server relays only between members, so an unlisted sender has left
  // (its late candidates must not bring its tile back).
  if (!id || id === app.me || !app.participants.some((p) => p.peer_id === id)) return;
  const peer = peerFor(id);
  run(peer, () => handleSignal(peer, msg));
}

async function handleSignal(peer, msg) {
  // Addressed to a connection of ours that no longer exists.
  const stale = msg.to_pc && msg.to_pc !== peer.pcId;
  // Their connection's id; null from clients that do not send one.
  const from = msg.pc ?? null;
  if (msg.type === 'ice_candidate') {
    if (stale || !msg.candidate) return;
    if (!peer.pc || !peer.pc.remoteDescription || peer.remotePcId !== from) {
      // Before their description, or from a connection we have not seen yet.
      peer.pending.push({ from, candidate: msg.candidate });
      return;
    }
    await addCandidate(peer, msg.candidate);
    return;
  }
  const sdp = typeof msg.sdp === 'string' ? msg.sdp : msg.sdp?.sdp;
  if (!sdp) return;
  if (msg.type === 'answer') {
    if (stale || !peer.pc || peer.pc.signalingState !== 'have-local-offer') return;
    await peer.pc.setRemoteDescription({ type: 'answer', sdp });
    accepted(peer, from);
    return;
  }
  // An offer.
  if (stale) {
    // They renegotiate a connection we do not have (this page was reloaded,
    // or we dropped it): start over with a fresh offer of ours.
    if (!isLive(peer)) await call(peer);
    return;
  }
  if (!peer.pc || (peer.remotePcId && from !== peer.remotePcId)) openPc(peer);
  const pc = peer.pc;
  const collision = peer.makingOffer || pc.signalingState !== 'stable';
  if (collision) peer.collisions++;
  peer.ignoreOffer = !peer.polite && collision;
  if (peer.ignoreOffer) return;
  await pc.setRemoteDescription({ type: 'offer', sdp }); // rolls ours back if needed
  accepted(peer, from);
  await attachMedia(peer);
  await pc.setLocalDescription();
  if (pc === peer.pc) send(peer, 'answer', { sdp: pc.localDescription.sdp });
}

// Their description is set: remember their connection, use what was queued.
function accepted(peer, from) {
  peer.remotePcId = from;
  const queued = peer.pending;
  peer.pending = [];
  for (const m of queued) if (m.from === from) addCandidate(peer, m.candidate);
}

async function addCandidate(peer, candidate) {
  try {
    await peer.pc.addIceCandidate(candidate);
  } catch (err) {
    if (!peer.ignoreOffer) console.warn('addIceCandidate', err);
  }
}

// ---- Media controls ----

function setMedia(fields) {
  Object.assign(app.media, fields);
  showMedia(app.selfTile, app.media);
  app.signaling?.mediaState(fields);
}

$('#mic').addEventListener('click', () => {
  const track = app.local?.getAudioTracks()[0];
  if (!track) return;
  track.enabled = !track.enabled; // a disabled track sends silence
  $('#mic').setAttribute('aria-pressed', track.enabled);
  setMedia({ audio: track.enabled });
});

$('#cam').addEventListener('click', () => {
  const track = app.local?.getVideoTracks()[0];
  if (!track) return;
  track.enabled = !track.enabled; // a disabled track sends black frames
  $('#cam').setAttribute('aria-pressed', track.enabled);
  setMedia({ video: track.enabled });
});

$('#screen').addEventListener('click', async () => {
  if (app.screen) {
    stopSharing();
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
  } catch (err) {
    console.warn('getDisplayMedia', err.name);
    return;
  }
  app.screen = stream.getVideoTracks()[0];
  app.screen.onended = stopSharing; // the browser's own "stop sharing" button
  await switchVideo();
  $('#screen').setAttribute('aria-pressed', true);
  setMedia({ screen_sharing: true });
});

function stopSharing() {
  if (!app.screen) return;
  app.screen.stop();
  app.screen = null;
  switchVideo();
  $('#screen').setAttribute('aria-pressed', false);
  setMedia({ screen_sharing: false });
}

// replaceTrack needs no renegotiation: the other side keeps its receiver.
async function switchVideo() {
  const track = localTrack('video');
  app.selfTile.querySelector('video').srcObject = app.screen ? new MediaStream([app.screen]) : app.local;
  for (const peer of app.peers.values()) {
    const tr = peer.pc?.getTransceivers().find((t) => t.receiver.track.kind === 'video');
    if (tr) await tr.sender.replaceTrack(track).catch((err) => console.warn('replaceTrack', err));
  }
}

$('#leave').addEventListener('click', () => {
  app.signaling?.close();
});

// ---- Chat ----

$('#chat-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = ev.target.text;
  const content = input.value.trim();
  // Shown when the server echoes it: then everyone sees the same order.
  if (content && app.signaling?.chat(content)) input.value = '';
});

function showChat(msg) {
  const li = document.createElement('li');
  li.dataset.from = msg.from_peer;
  const who = document.createElement('b');
  who.textContent = msg.from_peer === app.me ? 'You' : msg.from_name || msg.from_peer;
  const when = document.createElement('time');
  when.dateTime = msg.timestamp;
  when.textContent = new Date(msg.timestamp).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = msg.content;
  li.append(who, when, text);
  const list = $('#messages');
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

// ---- Tiles and status ----

function makeTile(id, name) {
  const tile = $('#tile-template').content.firstElementChild.cloneNode(true);
  if (id) tile.dataset.peer = id;
  setName(tile, name);
  $('#grid').append(tile);
  return tile;
}

function setName(tile, name, suffix = '') {
  tile.dataset.name = name; // shown large while the camera is off
  tile.querySelector('.name').textContent = name + suffix;
}

const tileOf = (id) => (id === app.me ? app.selfTile : app.peers.get(id)?.tile);

// Shows a media record ({audio, video, screen_sharing}, fields optional).
function showMedia(tile, media) {
  if (!tile) return;
  if ('audio' in media) tile.dataset.audio = media.audio ? 'on' : 'off';
  if ('video' in media) tile.dataset.video = media.video ? 'on' : 'off';
  if ('screen_sharing' in media) tile.dataset.screen = media.screen_sharing ? 'on' : 'off';
}

// Autoplay with sound needs a user gesture, which a page opened from a link
// has not had: play muted until the first click anywhere.
function play(video) {
  video.play().catch(() => {
    video.muted = true;
    video.play().catch(() => {});
    addEventListener('click', () => { video.muted = false; }, { once: true });
  });
}

function showStatus({ status, url, delayMs, code }) {
  const text = {
    connecting: `connecting to ${url ? new URL(url).host : ''}`,
    joined: `connected via ${url ? new URL(url).host : ''}`,
    waiting: `connection lost (${code}), retrying in ${((delayMs || 0) / 1000).toFixed(1)} s`,
    ended: 'disconnected',
  }[status] || status;
  $('#status').textContent = text;
  document.body.dataset.signaling = status;
}

const endings = {
  replaced: 'This call was opened again elsewhere (another tab or device); it continues there.',
  unauthorized: 'The access token was refused (missing, malformed, badly signed or expired).',
  forbidden: 'This access token is not valid for this room.',
  closed: 'You left the call.',
};

function onEnded({ reason, message, livekit }) {
  for (const peer of [...app.peers.values()]) dropPeer(peer);
  app.local?.getTracks().forEach((t) => t.stop());
  app.screen?.stop();
  $('#call').hidden = $('#controls').hidden = true;
  let text = endings[reason] || `Disconnected: ${reason}.`;
  if (reason === 'room_full') {
    text = `The room is full${app.maxParticipants ? ` (${app.maxParticipants} people)` : ''}.`;
    // The server offers the same room on the LiveKit SFU when it has one.
    if (livekit?.url) text += `\nIt continues on LiveKit: ${livekit.url}\ntoken: ${livekit.token}`;
  } else if (message && reason !== 'closed') {
    text += `\n(${message})`;
  }
  const notice = $('#notice');
  notice.textContent = text;
  if (reason === 'closed' || reason === 'room_full') {
    const again = document.createElement('a');
    again.href = location.href;
    again.textContent = 'Join again';
    notice.append('\n', again);
  }
  notice.hidden = false;
  document.body.dataset.ended = reason;
}

function renegotiate(id) {
  const peer = app.peers.get(id);
  return peer ? run(peer, () => makeOffer(peer)) : Promise.resolve();
}

// What the tests and the curious read: one line per peer connection.
function report() {
  return [...app.peers.values()].map((p) => ({
    peer: p.id,
    pcId: p.pcId,
    state: p.pc?.connectionState ?? 'none',
    signaling: p.pc?.signalingState ?? 'none',
    collisions: p.collisions,
    connectedMs: p.connectedMs,
    history: p.history,
  }));
}

start().catch((err) => {
  console.error(err);
  $('#status').textContent = `error: ${err.message}`;
});

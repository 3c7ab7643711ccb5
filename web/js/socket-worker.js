// The broker's websocket, held in a worker (broker.js starts it): the
// frames (each one message, or several, one per line: model.js, BATCH_MS)
// reach the page in batches, at most one batch every BATCH_MS, so
// that the page's main thread gets a few dozen tasks a second instead of one
// per message (with a thousand nodes, about 2,500 a second). A message that
// comes after a quiet spell is passed on at once.
//
// From the page: {op: 'open', id, url, hello} | {op: 'send', id, text} | {op: 'close', id}
// (hello: said as soon as the socket opens, as the page did itself: the
// broker's replay then comes before any live message of the same node)
// To the page:   {ev: 'open', id} | {ev: 'batch', id, texts (the frames), newAt} |
//                {ev: 'close', id, code, reason} | {ev: 'error', id, error}
const BATCH_MS = 16;
// A `new` in either spacing: the broker writes pyaiot's bytes
// ({"type": "new", ...}), other peers may write compact JSON.
const NEW_TYPE = /"type":\s*"new"/;

let ws = null;
let id = 0;
let texts = [];
let last = 0;
let timer = null;
// When the last node announced for the first time on this connection came
// (bench/dashboard_page: the replay's arrival); nodes re-announce.
let newAt = 0;
let announced = new Set();

function flush() {
  timer = null;
  if (texts.length === 0) return;
  last = performance.now();
  self.postMessage({ ev: 'batch', id, texts, newAt });
  texts = [];
}

function noteNew(text) {
  let uid;
  try {
    uid = JSON.parse(text).uid;
  } catch {
    return;
  }
  if (typeof uid !== 'string' || announced.has(uid)) return;
  announced.add(uid);
  newAt = performance.timeOrigin + performance.now();
}

function closeSocket() {
  if (!ws) return;
  const old = ws;
  ws = null;
  old.onopen = null;
  old.onmessage = null;
  old.onclose = null;
  try {
    old.close();
  } catch {
    // already closing
  }
}

function open(newId, url, hello) {
  closeSocket();
  clearTimeout(timer);
  timer = null;
  texts = [];
  announced = new Set();
  newAt = 0;
  id = newId;
  let socket;
  try {
    socket = new WebSocket(url);
  } catch (e) {
    self.postMessage({ ev: 'error', id, error: String(e) });
    return;
  }
  ws = socket;
  socket.onopen = () => {
    if (hello) socket.send(hello);
    self.postMessage({ ev: 'open', id });
  };
  socket.onmessage = (event) => {
    if (typeof event.data !== 'string') return;
    texts.push(event.data);
    if (NEW_TYPE.test(event.data)) {
      // A frame may hold several messages, one per line (/ws?batch=MS).
      for (const line of event.data.split('\n')) if (NEW_TYPE.test(line)) noteNew(line);
    }
    if (timer !== null) return;
    const wait = last + BATCH_MS - performance.now();
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  };
  socket.onclose = (event) => {
    if (ws !== socket) return;
    ws = null;
    clearTimeout(timer);
    flush(); // what came before the close first
    self.postMessage({ ev: 'close', id, code: event.code, reason: event.reason });
  };
}

self.onmessage = (event) => {
  const m = event.data;
  if (m.op === 'open') open(m.id, m.url, m.hello);
  else if (m.op === 'send' && m.id === id && ws && ws.readyState === WebSocket.OPEN) ws.send(m.text);
  else if (m.op === 'close' && m.id === id) closeSocket();
};

// The page's websocket to the broker: says `new` on open, reconnects with a
// growing delay when the connection is lost or refused. Given several
// broker URLs it tries them in order (BrokerRotation): the next one at once
// when one refuses, the delay once every one failed or after a loss. The socket lives in
// a worker (socket-worker.js) that hands the messages over in batches, a few
// dozen a second however many nodes send: receiving 2,500 messages a second
// one task each cost the main thread 16-21 % before the page did anything.
// Without workers the socket is the page's own, one batch per message.
import { BrokerRotation, HELLO, backoffDelay, batchedUrl } from './model.js';

export class BrokerConnection {
  // urls: the broker URLs in order (one, or brokerUrls' list).
  // handlers: {onState(state, detail), onOpen(), onFrames(texts)} (a frame: one message, or several, one per line)
  // state: 'connecting' | 'open' | 'closed'
  constructor(urls, handlers) {
    this.rotation = new BrokerRotation(Array.isArray(urls) ? urls : [urls]);
    this.handlers = handlers;
    this.ws = null; // the page's own socket (no worker)
    this.worker = null;
    this.id = 0; // the worker's current connection
    this.phase = 'idle'; // 'connecting' | 'open' | 'idle'
    this.attempt = 0;
    this.timer = null;
    this.countdown = null;
    this.lastNewReceived = 0;
    try {
      this.worker = new Worker(new URL('./socket-worker.js', import.meta.url));
      this.worker.onmessage = (event) => this.fromWorker(event.data);
      this.worker.onerror = (event) => this.workerFailed(event);
    } catch {
      this.worker = null;
    }
  }

  // The URL connected to, or tried now.
  get url() {
    return this.rotation.url;
  }

  start() {
    this.connect();
  }

  connect() {
    clearTimeout(this.timer);
    clearInterval(this.countdown);
    this.phase = 'connecting';
    this.handlers.onState('connecting', {});
    if (this.worker) {
      this.id += 1;
      this.worker.postMessage({ op: 'open', id: this.id, url: batchedUrl(this.url), hello: HELLO });
      return;
    }
    let ws;
    try {
      ws = new WebSocket(batchedUrl(this.url));
    } catch (e) {
      this.closed({ error: String(e) });
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => this.opened());
    ws.addEventListener('message', (event) => {
      if (typeof event.data === 'string') this.handlers.onFrames([event.data]);
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.closed({ code: event.code, reason: event.reason });
    });
    // 'error' is always followed by 'close', which does the work.
  }

  fromWorker(m) {
    if (m.id !== this.id) return; // an earlier connection's
    if (m.ev === 'batch') {
      // When the last `new` reached the socket, on the page's clock (for
      // bench/dashboard_page: the replay's arrival, before the page's work).
      if (m.newAt) this.lastNewReceived = m.newAt - performance.timeOrigin;
      this.handlers.onFrames(m.texts);
    }
    else if (m.ev === 'open') this.opened();
    else if (m.ev === 'close') this.closed({ code: m.code, reason: m.reason });
    else if (m.ev === 'error') this.closed({ error: m.error });
  }

  // The worker could not run (its script did not load): the page holds the
  // socket itself.
  workerFailed(event) {
    console.warn('aiot: the socket worker failed, the page holds the socket itself:', event.message || event);
    if (event.preventDefault) event.preventDefault();
    this.worker.terminate();
    this.worker = null;
    if (this.phase !== 'idle') this.connect();
  }

  opened() {
    this.attempt = 0;
    this.rotation.connected();
    this.phase = 'open';
    if (!this.worker) this.send(HELLO); // the worker said it when the socket opened
    this.handlers.onOpen();
    this.handlers.onState('open', {});
  }

  closed(detail) {
    const wasOpen = this.phase === 'open';
    this.phase = 'idle';
    this.handlers.onState('closed', detail);
    if (this.rotation.closed(wasOpen) === 'now') this.connect();
    else this.scheduleReconnect();
  }

  scheduleReconnect() {
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    const due = Date.now() + delay;
    const tick = () => this.handlers.onState('closed', { retryIn: Math.max(0, due - Date.now()) });
    tick();
    this.countdown = setInterval(tick, 1000);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // Reconnects now (the user asked to).
  retryNow() {
    if (this.phase !== 'idle') return;
    this.connect();
  }

  get isOpen() {
    if (this.worker) return this.phase === 'open';
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  send(text) {
    if (!this.isOpen) return false;
    if (this.worker) this.worker.postMessage({ op: 'send', id: this.id, text });
    else this.ws.send(text);
    return true;
  }
}

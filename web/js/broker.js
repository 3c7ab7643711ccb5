// The page's websocket to the broker: says `new` on open, reconnects with a
// growing delay when the connection is lost or refused.
import { HELLO, backoffDelay } from './model.js';

export class BrokerConnection {
  // handlers: {onState(state, detail), onOpen(), onMessage(text)}
  // state: 'connecting' | 'open' | 'closed'
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.countdown = null;
  }

  start() {
    this.connect();
  }

  connect() {
    clearTimeout(this.timer);
    clearInterval(this.countdown);
    this.handlers.onState('connecting', {});
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.handlers.onState('closed', { error: String(e) });
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.attempt = 0;
      ws.send(HELLO);
      this.handlers.onOpen();
      this.handlers.onState('open', {});
    });
    ws.addEventListener('message', (event) => {
      if (typeof event.data === 'string') this.handlers.onMessage(event.data);
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.handlers.onState('closed', { code: event.code, reason: event.reason });
      this.scheduleReconnect();
    });
    // 'error' is always followed by 'close', which does the work.
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
    if (this.ws) return;
    this.connect();
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  send(text) {
    if (!this.isOpen) return false;
    this.ws.send(text);
    return true;
  }
}

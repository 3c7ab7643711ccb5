// A node's webcam (resource `webcam`: the URL of an image or MJPEG stream);
// when the image cannot be loaded, a drawn placeholder says so.
import { el } from '../dom.js';
import { displayValue } from '../model.js';
import { ResourceView } from './base.js';

// The URL to load: http(s) URLs, data:image URLs and paths of this site;
// null for anything else (javascript:, file:, text that is not a URL).
export function webcamUrl(value, base = 'http://localhost/') {
  const text = displayValue(value).trim();
  if (text === '') return null;
  if (/^data:image\/(png|jpeg|gif|webp);base64,/i.test(text)) return text;
  let url;
  try {
    url = new URL(text, base);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

export class WebcamView extends ResourceView {
  constructor(ctx) {
    super(ctx, 'webcam');
    this.img = el('img', { class: 'webcam', 'data-testid': 'webcam-image', decoding: 'async', loading: 'lazy' });
    this.fallback = el('div', { class: 'webcam-fallback', 'data-testid': 'webcam-fallback', role: 'img' },
      el('img', { src: 'icons/camera-off.svg', alt: '', width: '40', height: '40' }),
      el('span', { text: 'No image from the webcam' }));
    this.fallback.hidden = true;
    this.img.addEventListener('error', () => this.showFallback(true));
    this.img.addEventListener('load', () => this.showFallback(false));
    this.renamed();
    this.root.append(this.head(), this.img, this.fallback);
    this.url = null;
  }

  renamed() {
    this.img.alt = `Webcam of ${this.ctx.nodeName()}`;
    this.fallback.setAttribute('aria-label', `Webcam of ${this.ctx.nodeName()}: no image`);
  }

  showFallback(on) {
    this.fallback.hidden = !on;
    this.img.hidden = on;
    this.root.dataset.state = on ? 'fallback' : 'image';
  }

  update(value) {
    this.root.dataset.value = displayValue(value);
    const url = webcamUrl(value, document.baseURI);
    if (url === this.url) return;
    this.url = url;
    if (!url) {
      this.img.removeAttribute('src');
      this.showFallback(true);
      return;
    }
    this.img.hidden = false;
    this.img.src = url;
  }
}

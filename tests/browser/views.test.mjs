// The parsing and pure logic of every widget of the page (web/js/views/,
// os.js, settings.js, charts.js, map.js, window.js) under node's test runner; the
// browser test checks the same widgets drawn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downloadPercent, suitState } from '../../web/js/views/suit.js';
import { JOYSTICK_STOP, joystickPayload, joystickVector } from '../../web/js/views/ribot.js';
import { webcamUrl } from '../../web/js/views/webcam.js';
import { imuOrientation } from '../../web/js/views/imu.js';
import { indentEdit, lineNumbers } from '../../web/js/views/code.js';
import { measurementText } from '../../web/js/views/measurement.js';
import { osIcon, osKind } from '../../web/js/os.js';
import { DEFAULT_SETTINGS, parseSettings, serializeSettings, Settings, SETTINGS_KEY } from '../../web/js/settings.js';
import { chartSummary, monotoneTangents, niceTicks } from '../../web/js/charts.js';
import { tileAttribution } from '../../web/js/map.js';
import { History, imuGroups } from '../../web/js/model.js';
import { chunkSize, nearRange, rowRange } from '../../web/js/window.js';
import { Redraws } from '../../web/js/scheduler.js';

test('SUIT: state codes as text, download as percent', () => {
  assert.deepEqual(suitState('6'), { code: 6, text: 'Downloading', phase: 'busy' });
  assert.equal(suitState(0).phase, 'idle');
  assert.equal(suitState('3').phase, 'error');
  assert.equal(suitState('11').text, 'Download completed');
  assert.deepEqual(suitState('4'), { code: 4, text: 'State 4', phase: 'unknown' });
  assert.equal(suitState('downloading'), null);
  assert.equal(suitState('-1'), null);
  assert.equal(downloadPercent('45'), 45);
  assert.equal(downloadPercent('45.6%'), 46);
  assert.equal(downloadPercent(130), 100);
  assert.equal(downloadPercent('-3'), 0);
  assert.equal(downloadPercent('n/a'), null);
});

test('RiBot joystick: vector, clamping and payload', () => {
  assert.deepEqual(joystickVector(0, 0, 50), { dx: 0, dy: 0, x: 0, y: 0 });
  const right = joystickVector(50, 0, 50);
  assert.equal(right.dx, -255, 'dx grows to the left (the firmware convention)');
  assert.equal(right.dy, 0);
  assert.equal(joystickVector(0, 25, 50).dy, 128);
  const far = joystickVector(300, 400, 50); // clamped onto the rim
  assert.equal(Math.round(Math.hypot(far.x, far.y)), 50);
  assert.equal(far.dx, -153);
  assert.equal(far.dy, 204);
  assert.equal(joystickPayload(-255, 100), '-255:100:-155\n');
  assert.equal(JOYSTICK_STOP, '0:0:0\n');
});

test('webcam: only image URLs are loaded', () => {
  assert.equal(webcamUrl('http://cam.lan/snap.jpg'), 'http://cam.lan/snap.jpg');
  assert.equal(webcamUrl('/cam/1.jpg', 'http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/cam/1.jpg');
  assert.equal(webcamUrl('data:image/png;base64,iVBORw0KGgo='), 'data:image/png;base64,iVBORw0KGgo=');
  assert.equal(webcamUrl('javascript:alert(1)'), null);
  assert.equal(webcamUrl('file:///etc/passwd'), null);
  assert.equal(webcamUrl('data:text/html,<b>x</b>'), null);
  assert.equal(webcamUrl(''), null);
  assert.equal(webcamUrl(null), null);
});

test('IMU: orientation from gravity and the magnetometer', () => {
  const flat = imuOrientation(imuGroups('[{"type":"acc","values":[0,0,9.81]}]'));
  assert.deepEqual(flat, { roll: 0, pitch: 0, yaw: 0 });
  const rolled = imuOrientation(imuGroups({ acc: [0, 9.81, 0] }));
  assert.equal(rolled.roll, 90);
  const pitched = imuOrientation(imuGroups({ acc: [-9.81, 0, 0] }));
  assert.equal(pitched.pitch, 90);
  const east = imuOrientation(imuGroups({ acc: [0, 0, 9.81], mag: [0, -1, 0] }));
  assert.equal(east.yaw, 90);
  assert.equal(imuOrientation(imuGroups({ gyro: [1, 2, 3] })), null, 'no accelerometer');
  assert.equal(imuOrientation(imuGroups({ acc: [0, 0, 0] })), null, 'no gravity');
  assert.equal(imuOrientation(null), null);
});

test('code editor: line numbers, Tab and Shift+Tab', () => {
  assert.equal(lineNumbers(''), '1');
  assert.equal(lineNumbers('a\nb\n'), '1\n2\n3');
  assert.deepEqual(indentEdit('ab', 1, 1, false), { text: 'a  b', start: 3, end: 3 });
  const text = 'one\ntwo\nthree';
  const indented = indentEdit(text, 1, 6, false); // "ne\ntw" over two lines
  assert.equal(indented.text, '  one\n  two\nthree');
  assert.deepEqual([indented.start, indented.end], [3, 10]);
  const back = indentEdit(indented.text, indented.start, indented.end, true);
  assert.equal(back.text, text);
  assert.equal(indentEdit(' x', 2, 2, true).text, 'x', 'one space outdents too');
  assert.equal(indentEdit('x', 1, 1, true).text, 'x', 'nothing to outdent');
});

test('measurements are shown at the sensor precision', () => {
  assert.deepEqual(measurementText('21.299999°C', 1), { text: '21.3', unit: '°C' });
  assert.deepEqual(measurementText('1013hPa', 0), { text: '1013', unit: 'hPa' });
  assert.deepEqual(measurementText('n/a', 2), { text: 'n/a', unit: '' });
});

test('OS icons', () => {
  assert.equal(osKind('RIOT'), 'riot');
  assert.equal(osKind('riot-os 2024.01'), 'riot');
  assert.equal(osKind('MicroPython'), 'micropython');
  assert.equal(osKind('Android 14'), 'android');
  assert.equal(osKind('Debian GNU/Linux'), 'linux');
  assert.equal(osKind('zephyr'), null);
  assert.equal(osKind(undefined), null);
  assert.deepEqual(osIcon('riot'), { file: 'icons/riot.svg', name: 'RIOT' });
});

test('settings: parsed defensively, round trip through storage', () => {
  assert.deepEqual(parseSettings(null), { ...DEFAULT_SETTINGS, hiddenProtocols: [], hiddenResources: [], hiddenNodes: [] });
  assert.deepEqual(parseSettings('not json').view, 'full');
  const odd = parseSettings('{"view":"huge","showMap":"no","hiddenNodes":[1,"a","a"],"query":5}');
  assert.equal(odd.view, 'full');
  assert.equal(odd.showMap, true);
  assert.deepEqual(odd.hiddenNodes, ['a']);
  assert.equal(odd.query, '');
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  const s = new Settings(storage);
  s.view = 'compact';
  s.showCamera = false;
  s.hiddenNodes.add('n1');
  s.hiddenProtocols.add('MQTT-SN');
  s.query = 'node 42';
  s.save();
  const again = new Settings(storage);
  assert.equal(again.view, 'compact');
  assert.equal(again.showCamera, false);
  assert.deepEqual([...again.hiddenNodes], ['n1']);
  assert.deepEqual([...again.hiddenProtocols], ['MQTT-SN']);
  assert.equal(again.query, 'node 42');
  assert.ok(store.has(SETTINGS_KEY));
  assert.equal(parseSettings(serializeSettings(again)).view, 'compact');
  const blocked = new Settings({ getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } });
  blocked.save(); // no throw
  assert.equal(blocked.view, 'full');
});

test('charts: monotone curves never overshoot, summaries for screen readers', () => {
  const xs = [0, 1, 2, 3, 4];
  const ys = [0, 0, 10, 10, 10];
  const m = monotoneTangents(xs, ys);
  assert.equal(m[1], 0, 'flat before the step');
  assert.equal(m[3], 0, 'flat after the step');
  for (let i = 0; i < xs.length - 1; i++) {
    // The Hermite segment stays within its two readings.
    for (let t = 0; t <= 1; t += 0.05) {
      const h = xs[i + 1] - xs[i];
      const y = (2 * t ** 3 - 3 * t ** 2 + 1) * ys[i] + (t ** 3 - 2 * t ** 2 + t) * h * m[i]
        + (-2 * t ** 3 + 3 * t ** 2) * ys[i + 1] + (t ** 3 - t ** 2) * h * m[i + 1];
      assert.ok(y >= Math.min(ys[i], ys[i + 1]) - 1e-9 && y <= Math.max(ys[i], ys[i + 1]) + 1e-9, `segment ${i} at ${t}`);
    }
  }
  assert.deepEqual(monotoneTangents([5], [1]), [0]);
  const h = new History(['Temperature']);
  assert.match(chartSummary('Temperature', h, '°C'), /no readings yet/);
  h.decimals = 1;
  h.push(0, [20.04]);
  h.push(1, [22.5]);
  h.push(2, [21]);
  assert.equal(chartSummary('Temperature', h, '°C'), 'Temperature, min 20.0, max 22.5, last 21.0 °C (3 readings)');
});

test('charts: round ticks covering the values', () => {
  assert.deepEqual(niceTicks(20, 23), { ticks: [20, 21, 22, 23], step: 1, decimals: 0 });
  assert.deepEqual(niceTicks(995, 1030).ticks, [990, 1000, 1010, 1020, 1030]);
  assert.deepEqual(niceTicks(0.01, 0.02), { ticks: [0.01, 0.015, 0.02], step: 0.005, decimals: 3 });
  const flat = niceTicks(1013, 1013);
  assert.ok(flat.ticks[0] < 1013 && flat.ticks[flat.ticks.length - 1] > 1013, 'a flat series sits inside its axis');
  for (const [lo, hi] of [[-0.4, 9.81], [-3, -1], [0, 1e6]]) {
    const t = niceTicks(lo, hi).ticks;
    assert.ok(t[0] <= lo && t[t.length - 1] >= hi && t.length <= 8, `${lo}..${hi}: ${t}`);
  }
});

test('map attribution follows the tile source', () => {
  assert.equal(tileAttribution('https://tile.openstreetmap.org/{z}/{x}/{y}.png'), '&copy; OpenStreetMap contributors');
  assert.equal(tileAttribution('http://tiles.lan:8080/{z}/{x}/{y}.png'), 'Tiles: tiles.lan');
  assert.equal(tileAttribution('not a url'), 'Tiles');
});

test('window: the cards near the screen, found by their rows', () => {
  // A grid of 3 columns, rows 100 px apart; card 4 is tall (reaches 450).
  const cards = Array.from({ length: 30 }, (_, i) => {
    const top = Math.floor(i / 3) * 100 - 1000; // scrolled down: row 10 at the top of the screen
    return { i, top, bottom: top + (i === 4 ? 550 : 90) };
  });
  let reads = 0;
  const rect = (c) => { reads += 1; return c; };
  // Screen [0, 250) with 100 px of margin: rows from -100 to 350.
  const cardsOnScreen = (from, to) => cards.slice(from, to).map((c) => c.i);
  assert.deepEqual(nearRange(cards, 250, 100, rect), [27, 30], 'past the end: the last row only reaches');
  const near = cards.map((c) => ({ ...c, top: c.top + 1000, bottom: c.bottom + 1000 })); // back to the top
  const [from, to] = nearRange(near, 250, 100, rect);
  assert.deepEqual(cardsOnScreen(from, to), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  // Scrolled so that row 1 (cards 3-5) is above the margin but card 4 reaches down.
  const scrolled = cards.map((c) => ({ ...c, top: c.top + 1000 - 350, bottom: c.bottom + 1000 - 350 }));
  const [f2, t2] = nearRange(scrolled, 250, 100, rect);
  assert.deepEqual([f2, t2], [3, 24], 'a tall card in a row above keeps its row near');
  assert.deepEqual(nearRange([], 250, 100, rect), [0, 0]);
  reads = 0;
  nearRange(near.concat(Array.from({ length: 1000 }, (_, i) => ({ top: 5000 + i * 100, bottom: 5090 + i * 100 }))), 250, 100, rect);
  assert.ok(reads < 40, `a thousand cards: ${reads} geometry reads`);
});

test('windowed node list: the rows near the viewport, clamped to the list', () => {
  // 1,100 rows of 34 px; the panel shows 800 px of it, 12 rows of margin.
  assert.deepEqual(rowRange(1100, 34, 0, 800, 12), [0, 36]);
  assert.deepEqual(rowRange(1100, 34, 34 * 500, 800, 12), [488, 536]);
  assert.deepEqual(rowRange(1100, 34, 34 * 1090, 800, 12), [1078, 1100], 'the end');
  assert.deepEqual(rowRange(1100, 34, -300, 800, 12), [0, 27], 'the list starts below the top of the panel');
  assert.deepEqual(rowRange(1100, 34, -2000, 800, 12), [0, 0], 'the list is far below the viewport');
  assert.deepEqual(rowRange(0, 34, 0, 800, 12), [0, 0]);
  assert.deepEqual(rowRange(5, 34, 0, 800, 12), [0, 5]);
});

test('card chunks: whole rows, about 32 cards', () => {
  assert.equal(chunkSize(1), 32);
  assert.equal(chunkSize(3), 33);
  assert.equal(chunkSize(4), 32);
  assert.equal(chunkSize(5), 30);
  assert.equal(chunkSize(7), 35);
  assert.equal(chunkSize(40), 80, 'at least two rows');
  assert.equal(chunkSize(0), 32);
  for (let c = 1; c < 20; c++) assert.equal(chunkSize(c) % c, 0, `${c} columns: whole rows`);
});

test('redraws: a frame the user waits for draws no chart, the next one does', () => {
  const frames = [];
  globalThis.requestAnimationFrame = (fn) => frames.push(fn);
  try {
    const r = new Redraws(250);
    const drawn = [];
    r.dirty.add({ draw: () => drawn.push('a') });
    r.skipFrame(16);
    r.run(8, 16); // due in the skipped frame: waits
    assert.deepEqual(drawn, []);
    assert.equal(frames.length, 1);
    frames.shift()(33);
    assert.deepEqual(drawn, ['a']);
    r.dirty.add({ draw: () => drawn.push('b') });
    r.run(8, 50); // another frame: drawn at once
    assert.deepEqual(drawn, ['a', 'b']);
  } finally {
    delete globalThis.requestAnimationFrame;
  }
});

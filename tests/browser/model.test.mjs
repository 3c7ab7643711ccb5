// The page's pure logic (web/js/model.js) under node's test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NodeStore, backoffDelay, brokerUrl, imuGroups, leadingNumber, ledIsOn, numberWithUnit,
  parseMessage, parsePosition, resourceKind, writeMessage, MAX_RESOURCES_PER_NODE,
} from '../../web/js/model.js';

test('reads the leading number of a value', () => {
  assert.equal(leadingNumber('23°C'), 23);
  assert.equal(leadingNumber('1013hPa'), 1013);
  assert.equal(leadingNumber('-4.5 °C'), -4.5);
  assert.equal(leadingNumber('  42 %'), 42);
  assert.equal(leadingNumber(17), 17);
  assert.equal(leadingNumber('.5lx'), 0.5);
  assert.equal(leadingNumber('off'), null);
  assert.equal(leadingNumber(''), null);
  assert.equal(leadingNumber({ a: 1 }), null);
  assert.deepEqual(numberWithUnit('23°C'), { number: 23, unit: '°C' });
  assert.deepEqual(numberWithUnit('412 ppm'), { number: 412, unit: 'ppm' });
  assert.equal(numberWithUnit('1.0.2'), null);
  assert.equal(numberWithUnit('12 apples 3'), null);
});

test('tells how each resource is shown', () => {
  assert.equal(resourceKind('name', 'riot'), 'info');
  assert.equal(resourceKind('temperature', '23°C'), 'measurement');
  assert.equal(resourceKind('temperature', 'n/a'), 'text');
  assert.equal(resourceKind('sound', '40dB'), 'measurement');
  assert.equal(resourceKind('version', '1.0.2'), 'info');
  assert.equal(resourceKind('led', '1'), 'led');
  assert.equal(resourceKind('robot', 's'), 'robot');
  assert.equal(resourceKind('js', 'x'), 'js');
  assert.equal(resourceKind('imu', '[]'), 'imu');
  assert.equal(resourceKind('position', '{"lat":1,"lng":2}'), 'position');
  assert.equal(resourceKind('greeting', 'hello'), 'text');
});

test('parses positions and IMU readings in their usual shapes', () => {
  assert.deepEqual(parsePosition('{"lat": 48.7, "lng": 2.2}'), { lat: 48.7, lng: 2.2 });
  assert.deepEqual(parsePosition({ lat: '1.5', lon: 3 }), { lat: 1.5, lng: 3 });
  assert.equal(parsePosition('{"lat": 91, "lng": 0}'), null);
  assert.equal(parsePosition('nowhere'), null);
  const riot = imuGroups('[{"type":"acc","values":[1,2,3]},{"type":"gyro","values":[4,5,6]}]');
  assert.deepEqual(riot.map((g) => g.name), ['acc', 'gyro']);
  assert.deepEqual(riot[1].series, [{ name: 'x', value: 4 }, { name: 'y', value: 5 }, { name: 'z', value: 6 }]);
  const keyed = imuGroups({ acc: { x: 1, y: 2 }, mag: [7, 8, 9] });
  assert.deepEqual(keyed.map((g) => g.name), ['acc', 'mag']);
  assert.deepEqual(imuGroups('[1,2,3]')[0].series.map((s) => s.value), [1, 2, 3]);
  assert.equal(imuGroups('not json'), null);
  assert.equal(imuGroups('{"acc":"x"}'), null);
});

test('LED states', () => {
  for (const on of ['1', 'on', 'ON', true, 1]) assert.equal(ledIsOn(on), true, String(on));
  for (const off of ['0', 'off', false, 0, '']) assert.equal(ledIsOn(off), false, String(off));
});

test('the broker URL uses the page host for localhost', () => {
  const location = { hostname: 'dash.example' };
  assert.equal(brokerUrl({ broker_host: 'localhost', broker_port: 8000 }, location), 'ws://dash.example:8000/ws');
  assert.equal(brokerUrl({ broker_host: '', broker_port: 8020 }, location), 'ws://dash.example:8020/ws');
  assert.equal(brokerUrl({ broker_host: 'broker.lan', broker_port: 8000, broker_ssl: true }, location),
    'wss://broker.lan:8000/ws');
  assert.equal(brokerUrl({ broker_host: 'fd00::1', broker_port: 8000 }, location), 'ws://[fd00::1]:8000/ws');
  assert.equal(brokerUrl({ broker_host: 'localhost', broker_port: 8000 }, { hostname: '[::1]' }), 'ws://[::1]:8000/ws');
});

test('reconnect delays grow to 10 s', () => {
  assert.equal(backoffDelay(0, () => 0), 500);
  assert.equal(backoffDelay(1, () => 0), 1000);
  assert.equal(backoffDelay(3, () => 0), 4000);
  assert.equal(backoffDelay(50, () => 0), 10000);
  assert.equal(backoffDelay(50, () => 1), 8000);
});

test('accepts broker messages only', () => {
  assert.deepEqual(parseMessage('{"type": "new", "uid": "a", "dst": "all"}'), { type: 'new', uid: 'a', dst: 'all' });
  assert.equal(parseMessage('{"type":"update","uid":"a"}'), null);
  assert.equal(parseMessage('{"type":"bogus","uid":"a"}'), null);
  assert.equal(parseMessage('[1]'), null);
  assert.equal(parseMessage('nope'), null);
  assert.deepEqual(JSON.parse(writeMessage('u1', 'led', 1)),
    { type: 'update', data: { uid: 'u1', endpoint: 'led', payload: '1' } });
});

test('the store follows new, update, reset and out', () => {
  const store = new NodeStore();
  assert.deepEqual(store.apply({ type: 'new', uid: 'a' }, 1), [{ kind: 'added', uid: 'a' }]);
  assert.deepEqual(store.apply({ type: 'new', uid: 'a' }, 1), []);
  store.apply({ type: 'update', uid: 'a', endpoint: 'protocol', data: 'CoAP' }, 2);
  store.apply({ type: 'update', uid: 'a', endpoint: 'ip', data: '::1' }, 2);
  const events = store.apply({ type: 'update', uid: 'a', endpoint: 'temperature', data: '23°C' }, 3);
  assert.deepEqual(events, [{ kind: 'value', uid: 'a', resource: 'temperature', value: '23°C', time: 3 }]);
  // An update for an unknown node makes it.
  assert.deepEqual(store.apply({ type: 'update', uid: 'b', endpoint: 'x', data: 1 }, 4).map((e) => e.kind),
    ['added', 'value']);
  assert.deepEqual(store.apply({ type: 'reset', uid: 'a' }, 5), [{ kind: 'reset', uid: 'a' }]);
  assert.deepEqual([...store.node('a').resources.keys()], ['protocol', 'ip']);
  assert.deepEqual(store.apply({ type: 'out', uid: 'a' }), [{ kind: 'removed', uid: 'a' }]);
  assert.deepEqual(store.apply({ type: 'out', uid: 'a' }), []);
  assert.deepEqual(store.clear(), [{ kind: 'removed', uid: 'b' }]);
  assert.equal(store.size, 0);
});

test('the store is bounded', () => {
  const store = new NodeStore();
  for (let i = 0; i < MAX_RESOURCES_PER_NODE + 10; i++) {
    store.apply({ type: 'update', uid: 'a', endpoint: `r${i}`, data: i });
  }
  assert.equal(store.node('a').resources.size, MAX_RESOURCES_PER_NODE);
  assert.equal(store.dropped, 10);
});

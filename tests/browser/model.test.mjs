// The page's pure logic (web/js/model.js) under node's test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BATCH_MS, BrokerRotation, NodeEntry, NodeOrder, NodeStore, backoffDelay, batchedUrl, brokerUrl, brokerUrls, compareNodes, decimalsOf, imuGroups, isStale, label, leadingNumber,
  ledIsOn, naturalCompare, numberWithUnit, messagesOf, parseMessage, parsePosition, protocolName, relativeAge,
  resourceKind, roundTo, sortedIndex, writeMessage, MAX_POINTS, MAX_RESOURCES_PER_NODE, PROTOCOLS,
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
  assert.deepEqual(numberWithUnit('12.5g/m3'), { number: 12.5, unit: 'g/m3' });
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
  assert.equal(resourceKind('ribot', '0:0:0'), 'ribot');
  assert.equal(resourceKind('webcam', 'http://cam/x.jpg'), 'webcam');
  assert.equal(resourceKind('suit_state', '6'), 'suit');
  assert.equal(resourceKind('dwnld', '40'), 'suit');
  assert.equal(resourceKind('tsp', '12g/m3'), 'measurement');
  assert.equal(resourceKind('uvindex', '3'), 'measurement');
});

test('friendly labels for the original resources', () => {
  assert.equal(label('tsp'), 'Small particles (1–2 µm)');
  assert.equal(label('tlp'), 'Large particles (3–10 µm)');
  assert.equal(label('uvindex'), 'UV index');
  assert.equal(label('suit_state'), 'Firmware update');
  assert.equal(label('air_quality'), 'Air quality');
});

test('protocol names, MQTT-SN included', () => {
  assert.ok(PROTOCOLS.includes('MQTT-SN'));
  assert.equal(protocolName('MQTT-SN'), 'MQTT-SN');
  assert.equal(protocolName('mqtt-sn'), 'MQTT-SN');
  assert.equal(protocolName('mqttsn'), 'MQTT-SN');
  assert.equal(protocolName('coap'), 'CoAP');
  assert.equal(protocolName('Zigbee'), 'Zigbee');
});

test('natural order of node names, binary-searched insertion', () => {
  const names = ['node 10', 'Node 2', 'node 1', 'alpha', 'node 42', 'node 100'];
  assert.deepEqual([...names].sort(naturalCompare), ['alpha', 'node 1', 'Node 2', 'node 10', 'node 42', 'node 100']);
  const sorted = [];
  const nodes = [{ name: 'b 10', uid: '1' }, { name: '', uid: '0' }, { name: 'b 9', uid: '2' }, { name: 'a', uid: '3' },
    { name: 'b 9', uid: '0' }];
  for (const n of nodes) sorted.splice(sortedIndex(sorted, n, compareNodes), 0, n);
  assert.deepEqual(sorted.map((n) => `${n.name}/${n.uid}`), ['a/3', 'b 9/0', 'b 9/2', 'b 10/1', '/0'],
    'named nodes first, naturally; equal names by uid; unnamed last');
  assert.equal(sortedIndex([1, 2, 2, 3], 2, (a, b) => a - b), 3);
  assert.equal(sortedIndex([], 5, (a, b) => a - b), 0);
});

test('values keep the precision of the sensor', () => {
  assert.equal(decimalsOf('21.50°C'), 2);
  assert.equal(decimalsOf('1013hPa'), 0);
  assert.equal(decimalsOf(0.1 + 0.2), 1, 'binary noise is not precision');
  assert.equal(decimalsOf(9.81), 2);
  assert.equal(decimalsOf('3.14159265'), 4, 'capped at 4');
  assert.equal(roundTo(21.299999999999997, 1), '21.3');
  assert.equal(roundTo(-0.001, 2), '0.00');
  assert.equal(roundTo(7, 0), '7');
});

test('ages and staleness', () => {
  assert.equal(relativeAge(500), 'just now');
  assert.equal(relativeAge(12000), '12 s ago');
  assert.equal(relativeAge(125000), '2 min ago');
  assert.equal(relativeAge(3 * 3600 * 1000 + 5), '3 h ago');
  const store = new NodeStore();
  for (const t of [0, 1000, 2000, 3000]) store.apply({ type: 'update', uid: 'a', endpoint: 'temperature', data: '20°C' }, t);
  const node = store.node('a');
  assert.equal(Math.round(node.interval), 1000);
  assert.equal(isStale(node, 5000), false);
  assert.equal(isStale(node, 6100), true, 'three intervals without a value');
  store.apply({ type: 'update', uid: 'b', endpoint: 'led', data: '1' }, 0);
  assert.equal(isStale(store.node('b'), 1e9), false, 'no known interval: never stale');
});

test('the store keeps chart history, bounded', () => {
  const store = new NodeStore();
  for (let i = 0; i < MAX_POINTS + 20; i++) {
    store.apply({ type: 'update', uid: 'a', endpoint: 'temperature', data: `${20 + i / 10}°C` }, i * 100);
  }
  const h = store.node('a').history.get('temperature');
  assert.equal(h.data[0].length, MAX_POINTS);
  assert.equal(h.decimals, 1);
  assert.equal(h.summary(0).last, 20 + (MAX_POINTS + 19) / 10);
  store.apply({ type: 'update', uid: 'a', endpoint: 'imu', data: '[{"type":"acc","values":[0.01,0.02,9.81]}]' }, 1);
  assert.deepEqual(store.node('a').history.get('imu:acc').names, ['x', 'y', 'z']);
  store.apply({ type: 'update', uid: 'a', endpoint: 'led', data: '1' }, 2);
  assert.equal(store.node('a').history.has('led'), false, 'an LED is not charted');
});

test('no node limit: node 1,001 and more are kept', () => {
  const store = new NodeStore();
  for (let i = 0; i < 1500; i++) store.apply({ type: 'new', uid: `n${i}` });
  assert.equal(store.size, 1500);
  assert.equal(store.dropped, 0);
});

test('after a reconnection, nodes not replayed are gone, then removed', () => {
  const store = new NodeStore();
  store.apply({ type: 'new', uid: 'kept' }, 0);
  store.apply({ type: 'update', uid: 'kept', endpoint: 'temperature', data: '1°C' }, 0);
  store.apply({ type: 'new', uid: 'lost' }, 0);
  store.beginResync();
  assert.deepEqual(store.apply({ type: 'new', uid: 'kept' }, 10), []);
  assert.deepEqual(store.endResync(20), [{ kind: 'gone', uid: 'lost' }]);
  assert.equal(store.node('kept').history.get('temperature').data[0].length, 1, 'history survives');
  assert.deepEqual(store.sweepGone(25, 10), []);
  // A gone node that comes back is back.
  store.beginResync();
  assert.deepEqual(store.apply({ type: 'new', uid: 'lost' }, 26), [{ kind: 'back', uid: 'lost' }]);
  assert.deepEqual(store.endResync(27), [{ kind: 'gone', uid: 'kept' }]);
  assert.deepEqual(store.sweepGone(40, 10), [{ kind: 'removed', uid: 'kept' }]);
  assert.equal(store.size, 1);
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
  // a page that came over https opens wss:// (ws:// would be mixed content)
  assert.equal(brokerUrl({ broker_host: 'localhost', broker_port: 8000 },
    { hostname: 'dash.example', protocol: 'https:' }), 'wss://dash.example:8000/ws');
  assert.equal(brokerUrl({ broker_host: 'broker.lan', broker_port: 8443 },
    { hostname: 'dash.example', protocol: 'http:' }), 'ws://broker.lan:8443/ws');
});

test('several brokers: one URL each, in order, localhost per entry', () => {
  const location = { hostname: 'dash.example' };
  assert.deepEqual(brokerUrls({
    broker_host: 'a.lan', broker_port: 8001,
    brokers: [{ host: 'a.lan', port: 8001 }, { host: 'localhost', port: 8002 }, { host: '::1', port: 8003 },
      { host: 'a.lan', port: 8001 }],
  }, location), ['ws://a.lan:8001/ws', 'ws://dash.example:8002/ws', 'ws://[::1]:8003/ws']);
  assert.deepEqual(brokerUrls({ brokers: [{ host: 'b.lan', port: 8443 }], broker_ssl: true }, location),
    ['wss://b.lan:8443/ws']);
  assert.deepEqual(brokerUrls({ brokers: [{ host: 'b.lan', port: 8000 }, { host: 'c.lan', port: 8000 }] },
    { hostname: 'dash.example', protocol: 'https:' }), ['wss://b.lan:8000/ws', 'wss://c.lan:8000/ws']);
  // A page config without a list (an older dashboard) or with a bad one: broker_host.
  assert.deepEqual(brokerUrls({ broker_host: 'localhost', broker_port: 8000 }, location), ['ws://dash.example:8000/ws']);
  assert.deepEqual(brokerUrls({ broker_host: 'x.lan', broker_port: 8000, brokers: [] }, location), ['ws://x.lan:8000/ws']);
  assert.deepEqual(brokerUrls({ broker_host: 'x.lan', broker_port: 8000, brokers: [null, 3] }, location), ['ws://x.lan:8000/ws']);
  const many = Array.from({ length: 40 }, (_, i) => ({ host: `h${i}`, port: 8000 }));
  assert.equal(brokerUrls({ brokers: many }, location).length, 16);
});

test('several brokers: the next at once on a failure, the delay after a round or a loss', () => {
  const r = new BrokerRotation(['ws://a/ws', 'ws://b/ws', 'ws://c/ws']);
  assert.equal(r.url, 'ws://a/ws');
  assert.equal(r.closed(false), 'now'); // a refused
  assert.equal(r.url, 'ws://b/ws');
  assert.equal(r.closed(false), 'now');
  assert.equal(r.url, 'ws://c/ws');
  assert.equal(r.closed(false), 'wait'); // all three failed: the delay, then a again
  assert.equal(r.url, 'ws://a/ws');
  assert.equal(r.closed(false), 'now');
  r.connected(); // b works: the page stays there
  assert.equal(r.url, 'ws://b/ws');
  assert.equal(r.closed(true), 'wait'); // b lost: c, after the delay
  assert.equal(r.url, 'ws://c/ws');
  assert.equal(r.closed(false), 'now');
  assert.equal(r.closed(false), 'now');
  assert.equal(r.closed(false), 'wait'); // the round ends with b, the one lost
  assert.equal(r.url, 'ws://c/ws');
  const one = new BrokerRotation(['ws://only/ws']);
  assert.equal(one.closed(false), 'wait');
  assert.equal(one.closed(true), 'wait');
  assert.equal(one.url, 'ws://only/ws');
});

test('reconnect delays grow to 10 s', () => {
  assert.equal(backoffDelay(0, () => 0), 500);
  assert.equal(backoffDelay(1, () => 0), 1000);
  assert.equal(backoffDelay(3, () => 0), 4000);
  assert.equal(backoffDelay(50, () => 0), 10000);
  assert.equal(backoffDelay(50, () => 1), 8000);
});

test('asks the broker for batches, reads one message per line or per frame', () => {
  assert.equal(batchedUrl('ws://h:8000/ws'), `ws://h:8000/ws?batch=${BATCH_MS}`);
  assert.equal(batchedUrl('wss://h/ws?x=1&batch=3'), `wss://h/ws?x=1&batch=${BATCH_MS}`);
  assert.equal(batchedUrl('not a url'), 'not a url');
  // aiot-broker's batches and pyaiot's single frames, mixed.
  assert.deepEqual(messagesOf(['{"a": 1}\n{"b": "x\\ny"}', '{"c": 3}', '']), ['{"a": 1}', '{"b": "x\\ny"}', '{"c": 3}', '']);
  assert.deepEqual(messagesOf([]), []);
  const inbox = ['waiting'];
  assert.equal(messagesOf(['a\nb'], inbox), inbox, 'appended to the given array');
  assert.deepEqual(inbox, ['waiting', 'a', 'b']);
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
  // A value is no event: its node and resource are marked changed.
  assert.deepEqual(store.apply({ type: 'update', uid: 'a', endpoint: 'temperature', data: '23°C' }, 3), []);
  const seen = [];
  store.takeChanged((node) => seen.push([node.uid, [...node.changed]]));
  assert.deepEqual(seen, [['a', ['protocol', 'ip', 'temperature']]]);
  assert.equal(store.changed.size, 0);
  assert.equal(store.node('a').changed.size, 0, 'taken once');
  // An update for an unknown node makes it.
  assert.deepEqual(store.apply({ type: 'update', uid: 'b', endpoint: 'x', data: 1 }, 4), [{ kind: 'added', uid: 'b' }]);
  assert.deepEqual([...store.node('b').changed], ['x']);
  assert.deepEqual(store.apply({ type: 'reset', uid: 'a' }, 5), [{ kind: 'reset', uid: 'a' }]);
  assert.deepEqual([...store.node('a').resources.keys()], ['protocol', 'ip']);
  assert.deepEqual(store.apply({ type: 'out', uid: 'a' }), [{ kind: 'removed', uid: 'a' }]);
  assert.deepEqual(store.apply({ type: 'out', uid: 'a' }), []);
  assert.deepEqual(store.clear(), [{ kind: 'removed', uid: 'b' }]);
  assert.equal(store.size, 0);
});

test('the store bounds resources per node', () => {
  const store = new NodeStore();
  for (let i = 0; i < MAX_RESOURCES_PER_NODE + 10; i++) {
    store.apply({ type: 'update', uid: 'a', endpoint: `r${i}`, data: i });
  }
  assert.equal(store.node('a').resources.size, MAX_RESOURCES_PER_NODE);
  assert.equal(store.dropped, 10);
});

test('a node is listed from its `new`: name, protocol and search text from the store, before any card', () => {
  const store = new NodeStore();
  store.apply({ type: 'new', uid: 'abc123456789' }, 1);
  const node = store.node('abc123456789');
  const entry = new NodeEntry(node);
  assert.equal(entry.name, '');
  assert.equal(entry.card, null);
  assert.equal(entry.search, 'abc123456789 node abc12345');
  store.apply({ type: 'update', uid: 'abc123456789', endpoint: 'name', data: 'Kitchen 2' }, 2);
  assert.deepEqual(entry.note('name'), { renamed: true, protocol: false, info: true });
  assert.deepEqual(entry.note('name'), { renamed: false, protocol: false, info: true });
  store.apply({ type: 'update', uid: 'abc123456789', endpoint: 'protocol', data: 'mqtt-sn' }, 3);
  assert.equal(entry.note('protocol').protocol, true);
  assert.equal(entry.protocol, 'MQTT-SN');
  store.apply({ type: 'update', uid: 'abc123456789', endpoint: 'temperature', data: '20°C' }, 4);
  assert.equal(entry.note('temperature').info, false, 'a reading changes nothing of the entry');
  assert.equal(entry.search, 'abc123456789 kitchen 2 kitchen 2 mqtt-sn');
  // A node whose resources came before the entry was made.
  const late = new NodeEntry(node);
  assert.equal(late.name, 'Kitchen 2');
  assert.equal(late.protocol, 'MQTT-SN');
  // A reset drops the name: noted again, the entry is unnamed.
  store.apply({ type: 'reset', uid: 'abc123456789' }, 5);
  assert.equal(entry.note('name').renamed, true);
  assert.equal(entry.name, '');
  assert.equal(entry.note('protocol').protocol, false, 'the protocol is kept on reset');
});

test('the node order: natural, unnamed last, a rename moves one entry, removal by binary search', () => {
  const make = (uid, name) => {
    const e = new NodeEntry({ uid, resources: new Map(name ? [['name', name]] : []) });
    return e;
  };
  const order = new NodeOrder();
  const names = () => order.items.map((e) => e.name || e.uid);
  const a = make('u1', 'node 10');
  const b = make('u2', 'node 2');
  const c = make('u3', '');
  const d = make('u4', 'Node 2'); // same name apart from case: by uid
  for (const e of [a, b, c, d]) order.add(e);
  assert.deepEqual(names(), ['node 2', 'Node 2', 'node 10', 'u3']);
  assert.equal(order.indexOf(c), 3);
  // c gets a name: it moves; b renamed to where it is: it stays.
  c.node.resources.set('name', 'node 1');
  c.note('name');
  assert.equal(order.renamed(c), true);
  assert.deepEqual(names(), ['node 1', 'node 2', 'Node 2', 'node 10']);
  b.node.resources.set('name', 'node 2');
  b.note('name');
  assert.equal(order.renamed(b), false);
  a.node.resources.delete('name');
  a.note('name');
  assert.equal(order.renamed(a), false, 'already last');
  assert.deepEqual(names(), ['node 1', 'node 2', 'Node 2', 'u1']);
  assert.equal(order.remove(d), true);
  assert.equal(order.remove(d), false, 'twice: no harm');
  assert.deepEqual(names(), ['node 1', 'node 2', 'u1']);
  // A thousand entries renamed in random order end up sorted, each found.
  const many = new NodeOrder();
  const entries = [];
  for (let i = 0; i < 1000; i++) {
    const e = make(`x${i}`, '');
    entries.push(e);
    many.add(e);
  }
  for (let i = 0; i < 1000; i++) {
    const e = entries[(i * 389) % 1000];
    e.node.resources.set('name', `node ${(i * 389) % 1000}`);
    e.note('name');
    many.renamed(e);
  }
  assert.deepEqual(many.items.map((e) => e.name), entries.map((_, i) => `node ${i}`));
  for (const e of entries) assert.equal(many.items[many.indexOf(e)], e);
});

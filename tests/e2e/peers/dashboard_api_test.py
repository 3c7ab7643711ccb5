#!/usr/bin/env python3
"""The dashboard's REST API and history (docs/API.md) against peers nobody
here wrote: Python's urllib as the API client, Python's sqlite3 reading and
seeding the history file, a websocket node on python3-websocket behind the
real aiot-ws-gateway, and a gateway on python3-websockets holding a real
token. Values are recorded and served back with their times, the LED of a
real node is switched by a PUT, bad requests get JSON 400/404, a restarted
dashboard keeps its history and retention deletes what is too old."""
import asyncio
import json
import os
import sqlite3
import time
import urllib.error
import urllib.request

import peerlib as p


def http(port, method, path, body=None):
    """(status, parsed JSON body, headers) of one request."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=p.DEADLINE) as r:
            return r.status, json.loads(r.read().decode()), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode()), e.headers


async def api(port, method, path, body=None):
    return await asyncio.to_thread(http, port, method, path, body)


async def start_dashboard(run, name, db, extra=()):
    run.start(name, [run.args.dashboard, "--web-bind", "127.0.0.1", "--web-port", "0",
                     "--broker-host", "127.0.0.1", "--broker-port", str(run.broker_port),
                     "--history-db", db, "--debug", *extra])
    port = await run.wait_bound_port(name, "listening on http://")
    return port


def stop_process(run, name):
    """SIGTERM to one daemon; it must end cleanly (and may end from now on)."""
    for i, (n, proc, path, _) in enumerate(run.procs):
        if n == name and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=5)
            assert proc.returncode == 0, f"{name} exited with {proc.returncode}"
            run.procs[i] = (n, proc, path, False)


async def scenario(run):
    await run.start_broker()
    db = os.path.join(run.tmp, "history.db")

    # Retention: a file seeded (with Python's sqlite3) by a dashboard run,
    # then given rows 30 days old; the next start deletes them.
    port = await start_dashboard(run, "aiot-dashboard-0", db)
    stop_process(run, "aiot-dashboard-0")
    old = int((time.time() - 30 * 86400) * 1000)
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO series(node, resource) VALUES('coap:OLD', 'temperature')")
        sid = c.execute("SELECT id FROM series WHERE node='coap:OLD'").fetchone()[0]
        c.executemany("INSERT INTO samples(series, at, number, text) VALUES(?,?,?,?)",
                      [(sid, old + i, 20.0, "20°C") for i in range(100)])
        c.execute("INSERT INTO samples(series, at, number, text) VALUES(?,?,?,?)",
                  (sid, int(time.time() * 1000) - 1000, 21.0, "21°C"))

    port = await start_dashboard(run, "aiot-dashboard-1", db, ["--history-days", "7"])

    async def old_rows_gone():
        with sqlite3.connect(db) as c:
            return c.execute("SELECT count(*) FROM samples WHERE at < ?",
                             (old + 1000,)).fetchone()[0] == 0
    await run.step("retention deletes the 30-day-old rows", p.poll("retention", old_rows_gone))
    status, body, _ = await api(port, "GET", "/api/nodes/coap:OLD/temperature/history")
    assert status == 200, (status, body)
    assert [v["text"] for v in body["values"]] == ["21°C"], body

    # A node behind a gateway that holds a real token: its values recorded
    # with the times they arrived.
    gw = await p.PyGateway.connect(run, "pygw")
    await gw.announce("PYNODE1", [("protocol", "CoAP"), ("name", "Py node")])

    async def node_listed():
        status, body, headers = await api(port, "GET", "/api/nodes")
        assert status == 200 and headers["Content-Type"] == "application/json", (status, headers)
        return any(n["uid"] == "PYNODE1" for n in body["nodes"])
    await run.step("the node is listed by /api/nodes", p.poll("node in /api/nodes", node_listed))
    sent = []
    for i in range(5):
        t = time.time()
        await gw.send(gw.compact(p.gw_update("PYNODE1", "temperature", f"{20 + i}.5°C")))
        sent.append((t, f"{20 + i}.5°C"))
        await asyncio.sleep(0.05)

    async def five_values():
        status, body, _ = await api(port, "GET", "/api/nodes/PYNODE1/temperature/history")
        return body if status == 200 and len(body["values"]) == 5 else None
    body = await run.step("the five values come back from the history", p.poll("5 values", five_values))
    assert body["key"] == "coap:PYNODE1", body
    for (t, text), v in zip(sent, body["values"]):
        assert v["text"] == text, (v, text)
        assert v["value"] == float(text[:4]), v
        assert t - 0.5 <= v["t"] / 1000 <= t + 2, f"time {v['time']} far from {t}"
    # newest last, and limit takes the newest
    status, body, _ = await api(port, "GET", "/api/nodes/PYNODE1/temperature/history?limit=2")
    assert [v["text"] for v in body["values"]] == ["23.5°C", "24.5°C"], body
    since = p.python_dumps(sent[3][0])
    status, body, _ = await api(port, "GET",
                                f"/api/nodes/PYNODE1/temperature/history?since={float(since) - 0.01}")
    assert status == 200 and [v["text"] for v in body["values"]] == ["23.5°C", "24.5°C"], body

    # Bad requests: JSON errors with the right status.
    for path, expected in [("/api/nodes/PYNODE1/temperature/history?limit=0", 400),
                           ("/api/nodes/PYNODE1/temperature/history?limit=100001", 400),
                           ("/api/nodes/PYNODE1/temperature/history?since=yesterday", 400),
                           ("/api/nodes/PYNODE1/temperature/history?bogus=1", 400),
                           ("/api/nodes/PYNODE1/temperature/history?since=2030-01-01&until=2029-01-01", 400),
                           ("/api/nodes/NOSUCH", 404),
                           ("/api/nodes/NOSUCH/temperature/history", 404),
                           ("/api/nope", 404)]:
        status, body, _ = await api(port, "GET", path)
        assert status == expected and body["status"] == expected and body["error"], (path, status, body)
    status, body, _ = await api(port, "PUT", "/api/nodes/NOSUCH/led", {"value": "1"})
    assert status == 404, (status, body)
    status, body, _ = await api(port, "PUT", "/api/nodes/PYNODE1/led", {"nothing": 1})
    assert status == 400, (status, body)
    status, body, _ = await api(port, "POST", "/api/nodes", {})
    assert status == 405, (status, body)

    # A real websocket node behind the real ws gateway: a PUT switches its LED.
    ws_port = await p.start_ws_gateway(run, ["--metrics-port", "0"])
    metrics_port = await run.wait_bound_port("aiot-ws-gateway", "metrics on http://")
    node = await p.start_ws_node(run, ws_port, {"name": "Kitchen", "led": "0"})

    async def ws_node_uid():
        _, body, _ = await api(port, "GET", "/api/nodes")
        for n in body["nodes"]:
            if n["resources"].get("name") == "Kitchen" and n["resources"].get("led") == "0":
                return n["uid"]
        return None
    uid = await run.step("the ws node is listed", p.poll("ws node", ws_node_uid))
    status, body, _ = await api(port, "PUT", f"/api/nodes/{uid}/led", {"value": "1"})
    assert status == 202, (status, body)
    await run.step("the node receives the write", node.wait_received(
        lambda t: json.loads(t) == {"endpoint": "led", "payload": "1"}, "LED write"))

    async def led_on():
        _, body, _ = await api(port, "GET", f"/api/nodes/{uid}")
        return body.get("resources", {}).get("led") == "1"
    await run.step("the API shows the LED on", p.poll("led = 1", led_on))
    # A plain HTTP GET on the nodes' port is refused (404): counted as a
    # refused handshake; no node message was refused.
    def plain_get():
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{ws_port}/nope", timeout=p.DEADLINE)
        except urllib.error.HTTPError as e:
            return e.code
        return 200
    assert await asyncio.to_thread(plain_get) == 404
    gw_metrics = await asyncio.to_thread(p.scrape, metrics_port)
    assert gw_metrics["aiot_ws_gateway_handshakes_refused_total"] == 1, gw_metrics
    assert gw_metrics["aiot_ws_gateway_messages_refused_total"] == 0, gw_metrics
    assert gw_metrics["aiot_ws_gateway_nodes"] == 1, gw_metrics
    assert gw_metrics["aiot_ws_gateway_broker_connected"] == 1, gw_metrics
    assert gw_metrics["aiot_ws_gateway_writes_total"] == 1, gw_metrics  # the PUT
    assert gw_metrics["aiot_ws_gateway_messages_sent_total"] >= 4, gw_metrics
    broker = await asyncio.to_thread(p.scrape, run.broker_port)
    assert broker["aiot_broker_gateways"] == 2 and broker["aiot_broker_nodes"] == 2, broker
    assert broker["aiot_broker_clients"] == 1, broker  # the dashboard
    assert broker['aiot_broker_messages_received_total{from="client",type="update"}'] >= 1, broker
    assert broker['aiot_broker_messages_received_total{from="gateway",type="update"}'] >= 8, broker
    assert broker['aiot_broker_messages_sent_total{to="gateway"}'] >= 2, broker
    assert broker['aiot_broker_sent_bytes_total'] > 0, broker
    values = await asyncio.to_thread(p.scrape, port)
    assert values["aiot_dashboard_nodes"] == 2, values
    assert values["aiot_dashboard_broker_connected"] == 1, values
    assert values['aiot_dashboard_api_requests_total{route="write"}'] >= 1, values
    assert values['aiot_dashboard_broker_messages_total{type="update"}'] >= 8, values
    assert values["aiot_dashboard_history_written_total"] >= 8, values
    node.stop()
    node.check()

    # A restarted dashboard keeps the history (asked by the stable key).
    stop_process(run, "aiot-dashboard-1")
    port = await start_dashboard(run, "aiot-dashboard-2", db)
    status, body, _ = await api(port, "GET", "/api/nodes/coap:PYNODE1/temperature/history")
    assert status == 200 and len(body["values"]) == 5, (status, body)
    status, body, _ = await api(port, "GET", "/api/nodes/ws:Kitchen/led/history")
    assert status == 200 and [v["text"] for v in body["values"]][-1] == "1", (status, body)
    gw.assert_clean()


if __name__ == "__main__":
    p.main("peers_dashboard_api", scenario)

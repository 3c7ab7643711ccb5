#!/usr/bin/env python3
"""aiot-dashboard over https (--tls-cert/--tls-key, certificates made at run
time by the openssl command line) against Python's urllib and ssl
verifying with the test CA: the page and /api/nodes (a node announced by a
python3-websockets gateway), HSTS under https only, TLS 1.1 refused, and a
plain HTTP request on the https port answered 400 and logged once."""
import json
import os
import socket
import ssl
import urllib.error
import urllib.request

import peerlib as p


def get(url, context=None):
    """(status, headers, body text) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=p.DEADLINE, context=context) as r:
            return r.status, r.headers, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")


def plain_request(port):
    """A plain HTTP/1.1 GET on a raw socket; everything the server sends
    until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=p.DEADLINE) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data.decode("utf-8", "replace")
            data += chunk


async def start_dashboard(run, name, extra):
    run.start(name, [run.args.dashboard, "--web-bind", "127.0.0.1", "--web-port", "0",
                     "--broker-host", "127.0.0.1", "--broker-port", str(run.broker_port),
                     "--no-history", "--debug", *extra])
    return await run.wait_bound_port(name, "listening on")


async def scenario(run):
    certs = await run.step("openssl: test CA and server certificate",
                           p.asyncio.to_thread(run.make_certs))
    await run.start_broker()
    gw = await p.PyGateway.connect(run, "pygw")
    await gw.announce("HTTPSNODE", [("protocol", "CoAP"), ("name", "https node")])
    port = await start_dashboard(run, "aiot-dashboard", ["--tls-cert", certs["server_cert"],
                                                         "--tls-key", certs["server_key"]])
    log = run.log_text("aiot-dashboard")
    assert f"listening on https://127.0.0.1:{port}/" in log, "no https listening line"
    assert "reaches the broker at wss://" in log, "an https page must use wss://"
    trusted = ssl.create_default_context(cafile=certs["ca"])
    base = f"https://127.0.0.1:{port}"

    status, headers, body = await run.step("GET / over https", p.asyncio.to_thread(
        get, base + "/", trusted))
    assert status == 200 and "<html" in body.lower(), (status, body[:200])
    assert headers["Strict-Transport-Security"] == "max-age=31536000", dict(headers)

    async def node_listed():
        status, headers, body = await p.asyncio.to_thread(get, base + "/api/nodes", trusted)
        assert status == 200, (status, body)
        assert headers["Strict-Transport-Security"] == "max-age=31536000", dict(headers)
        return "HTTPSNODE" in body and json.loads(body)
    nodes = await run.step("GET /api/nodes over https lists the node", poll(node_listed))
    assert nodes, nodes

    # The certificate is checked: another CA's client refuses it.
    wrong = ssl.create_default_context(cafile=certs["wrong_ca"])
    try:
        await p.asyncio.to_thread(get, base + "/", wrong)
        raise AssertionError("a client trusting another CA accepted the certificate")
    except urllib.error.URLError as e:
        assert "CERTIFICATE_VERIFY_FAILED" in str(e), e

    # TLS 1.1 is refused (TLS 1.2 minimum).
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(certs["ca"])
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        await p.asyncio.to_thread(get, base + "/", old)
        raise AssertionError("a TLS 1.1 client was served")
    except (urllib.error.URLError, ssl.SSLError, ConnectionError):
        pass

    # Plain HTTP on the https port: 400, logged once.
    for _ in range(2):
        answer = await p.asyncio.to_thread(plain_request, port)
        assert answer.startswith("HTTP/1.1 400 "), answer[:200]
        assert "https" in answer and "Strict-Transport-Security" not in answer, answer
    text = await run.wait_log("aiot-dashboard",
                              lambda t: "plain HTTP request on the https port" in t, "warning")
    assert text.count("plain HTTP request on the https port") == 1, "logged more than once"

    # No HSTS over plain http.
    plain_port = await start_dashboard(run, "aiot-dashboard-http", [])
    status, headers, _ = await p.asyncio.to_thread(get, f"http://127.0.0.1:{plain_port}/")
    assert status == 200 and "Strict-Transport-Security" not in headers, dict(headers)
    gw.assert_clean()


async def poll(fn, timeout=p.DEADLINE):
    deadline = p.time.monotonic() + timeout
    while True:
        got = await fn()
        if got:
            return got
        if p.time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        await p.asyncio.sleep(0.05)


if __name__ == "__main__":
    p.main("peers_dashboard_https", scenario)

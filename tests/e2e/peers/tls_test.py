#!/usr/bin/env python3
"""The broker with --tls-cert/--tls-key against real TLS peers: a web client
(python3-websockets) verifying the broker against a test CA made here with
the openssl command line; the real aiot-ws-gateway with --broker-ssl
--broker-ca and a pyaiot-style node whose update reaches the wss client; a
gateway trusting another CA, refused with a clear line; plain ws://, plain
HTTP, a client that never says hello and `openssl s_client -tls1_1`
refused while the wss client keeps working; the dashboard's own feed over
wss (its /api/nodes lists the node); /metrics over https."""
import asyncio
import json
import re
import subprocess
import time
import urllib.request

import peerlib as p

HANDSHAKE_TIMEOUT = 1.0  # --tls-handshake-timeout, seconds


def s_client(run, *args):
    """Debian's `openssl s_client` against the broker; (exit status, output)."""
    r = subprocess.run([run.args.openssl, "s_client", "-connect", f"127.0.0.1:{run.broker_port}",
                        "-servername", "localhost", *args],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=p.DEADLINE)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def refusals(metrics_text):
    """{reason: count} of aiot_broker_handshake_refusals_total{status="tls"}."""
    out = {}
    for m in re.finditer(r'^aiot_broker_handshake_refusals_total\{status="tls",reason="([a-z_]+)"\} '
                         r'([0-9.e+]+)$', metrics_text, re.M):
        out[m.group(1)] = float(m.group(2))
    return out


async def scenario(run):
    certs = run.make_certs()
    ca, cert, key = certs["ca"], certs["server_cert"], certs["server_key"]
    wrong_ca = certs["wrong_ca"]
    await run.start_broker(["--tls-cert", cert, "--tls-key", key,
                            "--tls-handshake-timeout", str(HANDSHAKE_TIMEOUT)])
    ctx = p.tls_client_context(ca)
    web = await run.step("web client over wss://127.0.0.1, verified against the test CA",
                         p.WebClient.connect(run, "web", ctx))
    await web.new()

    port = await p.start_ws_gateway(run, ["--broker-ssl", "--broker-ca", ca])
    node = await p.start_ws_node(run, port, {"name": "tls-node", "led": "0"})
    try:
        uid = await run.step("the gateway's node reaches the wss web client",
                             web.node_uid("name", "tls-node"))
        await run.wait_log_line("aiot-ws-gateway", "connected to broker wss://127.0.0.1:")

        # The dashboard's own feed (behind /api/nodes) over wss too.
        run.start("aiot-dashboard", [run.args.dashboard, "--web-bind", "127.0.0.1",
                                     "--web-port", "0", "--no-history", "--broker-ssl",
                                     "--broker-ca", ca] + run.gateway_common())
        web_port = await run.wait_bound_port("aiot-dashboard", "listening on http://")

        def dashboard_nodes():
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/nodes",
                                        timeout=p.DEADLINE) as resp:
                return [n["uid"] for n in json.loads(resp.read())["nodes"]]
        deadline = time.monotonic() + p.DEADLINE
        while uid not in await asyncio.to_thread(dashboard_nodes):
            assert time.monotonic() < deadline, "the dashboard (wss feed) never listed the node"
            await asyncio.sleep(0.05)
        await run.wait_log_line("aiot-dashboard", "connected to broker wss://127.0.0.1:")

        # A client that opens TCP and never sends its ClientHello: cut
        # after the handshake timeout, while a new wss client gets through.
        stalled_r, stalled_w = await asyncio.open_connection("127.0.0.1", run.broker_port)
        t0 = time.monotonic()
        web2 = await run.step("second wss client (localhost, SNI) while one connection stalls",
                              p.WebClient.connect(run, "web2", ctx, host="localhost"))
        await web2.new()
        await web2.node_uid("name", "tls-node")
        assert time.monotonic() - t0 < HANDSHAKE_TIMEOUT, \
            "the second client waited for the stalled handshake"
        data = await asyncio.wait_for(stalled_r.read(100), p.DEADLINE)
        waited = time.monotonic() - t0
        assert data == b"", f"stalled client got {data!r}"
        assert HANDSHAKE_TIMEOUT * 0.9 <= waited < HANDSHAKE_TIMEOUT + 3, \
            f"stalled client cut after {waited:.2f} s (timeout {HANDSHAKE_TIMEOUT} s)"
        stalled_w.close()
        run.log(f"stalled client cut after {waited:.2f} s")
        await web2.close()

        # A gateway trusting another CA: refused, one clear line, retries.
        run.start("aiot-ws-gateway-wrong-ca",
                  [run.args.ws_gateway, "--gateway-bind", "127.0.0.1", "--gateway-port", "0",
                   "--broker-ssl", "--broker-ca", wrong_ca] + run.gateway_common())
        line = await run.step("wrong CA: the gateway says the certificate is not trusted",
                              run.wait_log_line("aiot-ws-gateway-wrong-ca",
                                           "broker certificate not trusted: "))
        run.log(f"  {line.split('] ', 2)[-1]}")
        assert "connected to broker" not in run.log_text("aiot-ws-gateway-wrong-ca")

        # Plain ws:// on the TLS port: refused.
        try:
            plain = await websockets_connect_plain(run)
        except Exception as e:  # the handshake cannot succeed
            run.log(f"plain ws:// client refused: {type(e).__name__}: {e}")
        else:
            await plain.close()
            raise AssertionError("a plain ws:// client was accepted on the TLS port")
        # Plain HTTP on the TLS port: no HTTP answer, the connection closed.
        r, w = await asyncio.open_connection("127.0.0.1", run.broker_port)
        w.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await w.drain()
        answer = await asyncio.wait_for(r.read(), p.DEADLINE)
        assert not answer.startswith(b"HTTP/"), f"plain HTTP answered: {answer[:80]!r}"
        w.close()
        await run.wait_log_line("aiot-broker", "TLS handshake failed (not_tls")

        # TLS 1.1 refused; TLS 1.2 and 1.3 verified (the control).
        code, out = await asyncio.to_thread(s_client, run, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        assert code != 0, f"openssl s_client -tls1_1 was accepted:\n{out}"
        await run.wait_log_line("aiot-broker", "TLS handshake failed (protocol_version")
        for version in ("-tls1_2", "-tls1_3"):
            code, out = await asyncio.to_thread(s_client, run, version, "-CAfile", ca,
                                                "-verify_return_error")
            assert code == 0 and "Verify return code: 0 (ok)" in out, \
                f"openssl s_client {version} failed:\n{out}"

        # The wss client still works: a write reaches the node and back.
        start = len(web.frames)
        await web.write(uid, "led", "1")
        await run.step("wss client: led write round trip after the refusals", web.wait_for(
            lambda v: v.get("uid") == uid and v.get("endpoint") == "led" and v.get("data") == "1",
            "led=1", start))

        # /metrics over https counts the refusals by reason.
        def scrape():
            with urllib.request.urlopen(f"https://127.0.0.1:{run.broker_port}/metrics",
                                        context=ctx, timeout=p.DEADLINE) as resp:
                return resp.read().decode()
        counts = refusals(await asyncio.to_thread(scrape))
        run.log(f"TLS refusals by reason: {counts}")
        for reason, least in (("timeout", 1), ("not_tls", 2), ("protocol_version", 1),
                              ("certificate_refused", 1)):
            assert counts.get(reason, 0) >= least, f"{reason}: {counts}"
        web.assert_clean()
        run.check_alive()
    finally:
        node.stop()


async def websockets_connect_plain(run):
    return await p.websockets.connect(f"ws://127.0.0.1:{run.broker_port}/ws",
                                      open_timeout=p.DEADLINE, close_timeout=1)


if __name__ == "__main__":
    p.main("peers_tls", scenario)

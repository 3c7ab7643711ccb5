#!/usr/bin/env python3
"""aiot-coap-gateway's DTLS port (pre-shared keys, --coap-psk-file) against
libcoap's coap-client-openssl (Debian libcoap3-bin) as a DTLS node: POST
/alive and /server over coaps reach a web client of the real aiot-broker; a
wrong key and an unknown identity are refused (no node, a log line); and
coap-test-node --psk-identity/--psk-key end to end: discovery over the DTLS
session the node opened (nothing serves at the gateway's --node-port) and
an LED write from the web client; when the node stops, its DTLS session
ends: the gateway logs it, drops the session, sends nothing more to the
node and keeps serving others. The broker speaks TLS (--tls-cert): the
gateway's uplink is wss:// (--broker-ssl --broker-ca) and the web client
(python3-websockets) checks the test CA."""
import re
import socket
import uuid

import peerlib as p

CLIENT = ("coap-client", "client key 1")
NODE = ("sim-node", "0x00112233445566778899aabbccddeeff")


async def dtls_port(run):
    """The DTLS port from the gateway's "listening on ... DTLS" line."""
    text = await run.wait_log("aiot-coap-gateway", lambda t: re.search(r":(\d+) DTLS", t),
                              "DTLS port")
    return int(re.search(r":(\d+) DTLS", text).group(1))


async def scenario(run):
    if not run.args.coap_test_node:
        raise AssertionError("--coap-test-node not given")
    certs = await run.step("openssl: test CA and server certificate",
                           p.asyncio.to_thread(run.make_certs))
    await run.start_broker(["--tls-cert", certs["server_cert"], "--tls-key", certs["server_key"]])
    web = await run.step("web client over wss://, checking the test CA", p.WebClient.connect(
        run, "web", p.tls_client_context(certs["ca"])))
    await web.new()
    psk_file = p.os.path.join(run.tmp, "psk")
    with open(psk_file, "w") as f:
        f.write(f"# DTLS nodes of the test\n{CLIENT[0]} = {CLIENT[1]}\n{NODE[0]} = {NODE[1]}\n")
    nobody = p.free_port(socket.SOCK_DGRAM)  # nothing serves there: plain discovery would fail
    run.start("aiot-coap-gateway", [run.args.coap_gateway, "--coap-bind", "127.0.0.1",
                                    "--coap-port", "0", "--coaps-port", "0",
                                    "--coap-psk-file", psk_file, "--node-port", str(nobody),
                                    "--request-timeout", "2", "--broker-ssl", "--broker-ca",
                                    certs["ca"]] + run.gateway_common())
    port = await dtls_port(run)

    uid = "dtls-" + uuid.uuid4().hex[:8]
    out = await run.step("coaps POST /alive", p.coap_post(run, port, "alive", f"alive:{uid}",
                                                         psk=CLIENT))
    assert out == f"Received 'alive:{uid}'", f"coap-client got {out!r}"
    _, text, _ = await run.step("web client sees the DTLS node", web.wait_for(
        lambda v: v.get("type") == "new" and v.get("uid") == uid, "new"))
    p.expect_bytes(text, p.gw_new(uid), "new to web client")
    await p.coap_post(run, port, "server", "temperature:20.5°C", psk=CLIENT)
    _, text, _ = await web.wait_for(
        lambda v: v.get("uid") == uid and v.get("endpoint") == "temperature", "temperature")
    p.expect_bytes(text, p.gw_update(uid, "temperature", "20.5°C"), "temperature to web client")

    # A wrong key and an unknown identity: refused, logged, no node (a wrong
    # key stalls the handshake: DTLS drops what it cannot decrypt).
    for who, psk, reason in [("wrong key", (CLIENT[0], "not the key"),
                              "handshake as 'coap-client' not finished"),
                             ("unknown identity", ("stranger", CLIENT[1]),
                              "unknown PSK identity 'stranger'")]:
        bad = "bad-" + uuid.uuid4().hex[:8]
        r = await p.asyncio.to_thread(
            p.subprocess.run, [run.args.coap_client, "-m", "post", "-B", "2", "-u", psk[0],
                               "-k", psk[1], "-e", f"alive:{bad}",
                               f"coaps://127.0.0.1:{port}/alive"],
            capture_output=True, timeout=10)
        assert f"Received 'alive:{bad}'" not in r.stdout.decode("utf-8", "replace"), who
        if reason:
            await run.step(f"{who} refused and logged", run.wait_log(
                "aiot-coap-gateway", lambda t: reason in t, f"'{reason}'"))
        await web.barrier()
        assert not any(v and v.get("uid") == bad for _, v in web.frames), f"{who}: node appeared"

    # coap-test-node over coaps: discovered over its DTLS session, LED written.
    node_uid = "simdtls-" + uuid.uuid4().hex[:6]
    run.start("coap-test-node", [run.args.coap_test_node, "--gateway-host", "127.0.0.1",
                                 "--gateway-port", str(port), "--node-host", "127.0.0.2",
                                 "--node-port", str(p.free_port(socket.SOCK_DGRAM)),
                                 "--psk-identity", NODE[0], "--psk-key", NODE[1],
                                 "--uid", node_uid, "--led", "--temperature", "--debug"])
    await run.step("web client sees the coap-test-node", web.wait_for(
        lambda v: v.get("type") == "new" and v.get("uid") == node_uid, "new"))
    await run.step("discovery over DTLS: the node's name", web.wait_for(
        lambda v: v.get("uid") == node_uid and v.get("endpoint") == "name", "name"))
    await web.wait_for(lambda v: v.get("uid") == node_uid and v.get("endpoint") == "led"
                       and v.get("data") == "0", "led=0")
    start = len(web.frames)
    await web.write(node_uid, "led", "1")
    await run.step("LED write over DTLS comes back", web.wait_for(
        lambda v: v.get("uid") == node_uid and v.get("endpoint") == "led" and v.get("data") == "1",
        "led=1", start))

    # The node stops: libcoap closes its DTLS session (close_notify).
    run.kill("coap-test-node", p.signal.SIGTERM)
    ended = re.compile(r"info +\[gw\.coap\] DTLS session with 127\.0\.0\.2 port \d+ ended$", re.M)
    await run.step("the ended DTLS session is logged", run.wait_log(
        "aiot-coap-gateway", ended.search, "'DTLS session with 127.0.0.2 port N ended'"))
    # Nothing more goes to it: a write fails at once, not after retransmissions.
    await web.write(node_uid, "led", "0")
    await run.step("a write to it fails at once", run.wait_log(
        "aiot-coap-gateway",
        lambda t: f"node '{node_uid}': PUT /led '0' failed: its DTLS session ended" in t,
        "the refused write"))
    # The gateway keeps serving: another DTLS node is seen.
    other = "dtls2-" + uuid.uuid4().hex[:8]
    await p.coap_post(run, port, "alive", f"alive:{other}", psk=CLIENT)
    await run.step("another DTLS node after that", web.wait_for(
        lambda v: v.get("type") == "new" and v.get("uid") == other, "new"))
    web.assert_clean()


if __name__ == "__main__":
    p.main("peers_coaps", scenario)

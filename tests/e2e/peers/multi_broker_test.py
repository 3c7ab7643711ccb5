#!/usr/bin/env python3
"""Several brokers in --broker-host (docs/deployment.md, "Several
brokers"): two real aiot-brokers A and B, the real aiot-ws-gateway and
aiot-dashboard given "127.0.0.1:A,127.0.0.1:B", a websocket node on
python3-websocket and web clients on python3-websockets. The gateway uses
A while it lives; A killed with SIGKILL, the gateway is on B within a
bound and a web client of B sees the node (new, values, an LED write and
its answer); the dashboard's own feed moves to B too. A gateway whose
first broker is down at start goes to the second. Over TLS each entry's
host is the name checked. A bad list is refused at start with exit
code 2."""
import asyncio
import subprocess
import time

import peerlib as p

FAILOVER_BOUND = 3.0  # seconds from the kill to the node on B (backoff's first retry <= 0.25 s)


def brokers(*ports):
    return ",".join(f"127.0.0.1:{port}" for port in ports)


async def scenario(run):
    if not run.args.ws_gateway or not run.args.dashboard:
        print("SKIP: needs --ws-gateway and --dashboard")
        return
    common = ["--key-file", run.key_file, "--debug"]

    bad = subprocess.run([run.args.ws_gateway, "--broker-host", "127.0.0.1:8000,,b", *common],
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=p.DEADLINE)
    err = bad.stderr.decode("utf-8", "replace")
    assert bad.returncode == 2 and "--broker-host: empty entry" in err, (bad.returncode, err)

    port_a = await run.start_broker(name="broker-a")
    web_a = await p.WebClient.connect(run, "web-a")
    await web_a.new()
    port_b = await run.start_broker(name="broker-b")
    web_b = await p.WebClient.connect(run, "web-b")  # run.broker_port is B now
    await web_b.new()

    run.start("aiot-ws-gateway", [run.args.ws_gateway, "--gateway-bind", "127.0.0.1",
                                  "--gateway-port", "0", "--broker-host", brokers(port_a, port_b),
                                  *common])
    gw_port = await run.wait_bound_port("aiot-ws-gateway", "listening for websocket nodes")
    run.start("aiot-dashboard", [run.args.dashboard, "--web-bind", "127.0.0.1", "--web-port", "0",
                                 "--no-history", "--broker-host", brokers(port_a, port_b), *common])
    await run.step("the gateway uses the first broker",
                   run.wait_log_line("aiot-ws-gateway",
                                     f"connected to broker ws://127.0.0.1:{port_a}/gw (1 of 2"))
    await run.step("the dashboard's feed uses the first broker",
                   run.wait_log_line("aiot-dashboard",
                                     f"connected to broker ws://127.0.0.1:{port_a}/ws (1 of 2"))
    node = await p.start_ws_node(run, gw_port, {"name": "multi-broker-node", "led": "0"})
    node2 = None
    try:
        uid = await run.step("a web client of A sees the node",
                             web_a.node_uid("name", "multi-broker-node"))
        assert not any(v and v.get("uid") == uid for _, v in web_b.frames), "B saw A's node"

        start_b = len(web_b.frames)
        run.kill("broker-a")
        killed = time.monotonic()
        await run.step("after A's kill a web client of B sees the node's new", web_b.wait_for(
            lambda v: v.get("type") == "new" and v.get("uid") == uid, "new", start_b))
        await web_b.wait_for(lambda v: v.get("uid") == uid and v.get("endpoint") == "name"
                             and v.get("data") == "multi-broker-node", "name", start_b)
        failover = time.monotonic() - killed
        run.log(f"failover: node on B {failover:.3f} s after the kill")
        assert failover < FAILOVER_BOUND, f"failover took {failover:.3f} s"
        await run.wait_log_line("aiot-ws-gateway",
                                f"connected to broker ws://127.0.0.1:{port_b}/gw (2 of 2")
        mark = len(web_b.frames)
        await web_b.write(uid, "led", "1")
        await run.step("B's client writes the LED through the gateway and sees led=1",
                       web_b.wait_for(lambda v: v.get("uid") == uid and v.get("endpoint") == "led"
                                      and v.get("data") == "1", "led=1", mark))
        await run.step("the dashboard's feed moved to B",
                       run.wait_log_line("aiot-dashboard",
                                         f"connected to broker ws://127.0.0.1:{port_b}/ws (2 of 2"))

        # A is down now: a gateway started with it first goes to B.
        started = time.monotonic()
        run.start("aiot-ws-gateway-2", [run.args.ws_gateway, "--gateway-bind", "127.0.0.1",
                                        "--gateway-port", "0",
                                        "--broker-host", brokers(port_a, port_b), *common])
        gw2_port = await run.wait_bound_port("aiot-ws-gateway-2", "listening for websocket nodes")
        node2 = await p.start_ws_node(run, gw2_port, {"name": "second-node"})
        await run.step("first broker down at start: the node reaches B",
                       web_b.node_uid("name", "second-node"))
        took = time.monotonic() - started
        assert took < FAILOVER_BOUND, f"the second gateway took {took:.3f} s to reach B"
        line = await run.wait_log_line("aiot-ws-gateway-2",
                                       f"cannot connect to broker ws://127.0.0.1:{port_a}/gw")
        assert f"trying broker ws://127.0.0.1:{port_b}/gw now" in line, line
        web_b.assert_clean()
        web_a.assert_clean()

        # TLS: each entry's own host is checked against the certificate
        # (and sent as SNI). C's certificate names localhost, not
        # 127.0.0.1: the first entry is refused, the second accepted.
        certs = run.make_certs()
        port_c = await run.start_broker(["--tls-cert", certs["name_only_cert"],
                                         "--tls-key", certs["name_only_key"]], name="broker-c")
        run.start("aiot-ws-gateway-tls", [run.args.ws_gateway, "--gateway-bind", "127.0.0.1",
                                          "--gateway-port", "0", "--broker-ssl",
                                          "--broker-ca", certs["ca"], "--broker-host",
                                          f"127.0.0.1:{port_c},localhost:{port_c}", *common])
        line = await run.step("TLS: the address entry fails the certificate check",
                              run.wait_log_line("aiot-ws-gateway-tls",
                                                f"cannot connect to broker wss://127.0.0.1:{port_c}/gw"))
        assert "broker certificate not trusted" in line and \
            f"trying broker wss://localhost:{port_c}/gw now" in line, line
        await run.step("TLS: the name entry is verified and connected",
                       run.wait_log_line("aiot-ws-gateway-tls",
                                         f"connected to broker wss://localhost:{port_c}/gw (2 of 2"))
    finally:
        node.stop()
        if node2:
            node2.stop()


if __name__ == "__main__":
    p.main("peers_multi_broker", scenario)

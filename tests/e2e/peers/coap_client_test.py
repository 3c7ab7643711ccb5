#!/usr/bin/env python3
"""libcoap's coap-client (Debian libcoap3-bin) as a CoAP node towards the
real aiot-coap-gateway: POST /alive `alive:<uid>` and POST /server
`temperature:21°C`, checked through a web client of the real aiot-broker;
the gateway's metrics (checked by promtool) count a refused POST and the
failed discovery of a node that does not answer."""
import asyncio
import socket
import subprocess
import uuid

import peerlib as p


async def scenario(run):
    await run.start_broker()
    web = await p.WebClient.connect(run, "web")
    await web.new()
    node_port = p.free_port(socket.SOCK_DGRAM)  # nothing serves there: discovery fails, harmless
    run.start("aiot-coap-gateway", [run.args.coap_gateway, "--coap-bind", "127.0.0.1",
                                    "--coap-port", "0", "--node-port", str(node_port),
                                    "--request-timeout", "1", "--metrics-port", "0"]
              + run.gateway_common())
    coap_port = await run.wait_bound_port("aiot-coap-gateway", "listening on")
    metrics_port = await run.wait_bound_port("aiot-coap-gateway", "metrics on http://")
    uid = "peer-" + uuid.uuid4().hex[:8]
    out = await run.step("POST /alive alive:<uid>", p.coap_post(run, coap_port, "alive", f"alive:{uid}"))
    assert out == f"Received 'alive:{uid}'", f"coap-client got {out!r}"
    _, text, _ = await run.step("web client sees the node", web.wait_for(
        lambda v: v.get("type") == "new" and v.get("uid") == uid, "new"))
    p.expect_bytes(text, p.gw_new(uid), "new to web client")
    _, text, _ = await web.wait_for(lambda v: v.get("uid") == uid and v.get("endpoint") == "ip", "ip")
    p.expect_bytes(text, p.gw_update(uid, "ip", "127.0.0.1"), "ip to web client")
    _, text, _ = await web.wait_for(lambda v: v.get("uid") == uid and v.get("endpoint") == "protocol",
                                    "protocol")
    p.expect_bytes(text, p.gw_update(uid, "protocol", "CoAP"), "protocol to web client")
    out = await run.step("POST /server temperature:21°C",
                         p.coap_post(run, coap_port, "server", "temperature:21°C"))
    _, text, _ = await run.step("web client sees temperature 21°C", web.wait_for(
        lambda v: v.get("uid") == uid and v.get("endpoint") == "temperature", "temperature"))
    p.expect_bytes(text, p.gw_update(uid, "temperature", "21°C"), "temperature to web client")
    assert "21°C".encode() in text.encode(), "non-ASCII escaped"

    bad = await asyncio.to_thread(
        subprocess.run, [run.args.coap_client, "-m", "post", "-B", "2", "-e", "hello",
                         f"coap://127.0.0.1:{coap_port}/alive"], capture_output=True, timeout=10)
    said = (bad.stdout + bad.stderr).decode("utf-8", "replace")
    assert "4.00" in said, f"a bad alive payload answered with {said!r}"

    async def counted():
        m = await asyncio.to_thread(p.scrape, metrics_port)
        return m if m["aiot_coap_gateway_discovery_failures_total"] >= 1 else None
    m = await run.step("the metrics count the failed discovery", p.poll("discovery failure", counted))
    assert m["aiot_coap_gateway_requests_refused_total"] == 1, m
    assert m["aiot_coap_gateway_nodes"] == 1, m
    web.assert_clean()


if __name__ == "__main__":
    p.main("peers_coap_client", scenario)

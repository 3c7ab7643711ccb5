#!/usr/bin/env python3
"""libcoap's coap-client (Debian libcoap3-bin) as a CoAP node towards the
real aiot-coap-gateway: POST /alive `alive:<uid>` and POST /server
`temperature:21°C`, checked through a web client of the real aiot-broker."""
import socket
import uuid

import peerlib as p


async def scenario(run):
    await run.start_broker()
    web = await p.WebClient.connect(run, "web")
    await web.new()
    node_port = p.free_port(socket.SOCK_DGRAM)  # nothing serves there: discovery fails, harmless
    run.start("aiot-coap-gateway", [run.args.coap_gateway, "--coap-bind", "127.0.0.1",
                                    "--coap-port", "0", "--node-port", str(node_port),
                                    "--request-timeout", "1"] + run.gateway_common())
    coap_port = await run.wait_bound_port("aiot-coap-gateway", "listening on")
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
    web.assert_clean()


if __name__ == "__main__":
    p.main("peers_coap_client", scenario)

#!/usr/bin/env python3
"""A pyaiot-style websocket node (Debian's python3-websocket) against the real
aiot-ws-gateway and aiot-broker: the node compares the discovery request as
text, a web client (python3-websockets) sees the node, writes the LED and
gets the value back; every frame obeys the byte rule."""
import peerlib as p


async def scenario(run):
    await run.start_broker()
    web = await p.WebClient.connect(run, "web")
    await web.new()
    port = await p.start_ws_gateway(run)
    node = await p.start_ws_node(run, port, {"name": "python-ws-node", "os": "linux",
                                            "led": "0", "temperature": "23.4°C"})
    try:
        await run.step("discovery: the node gets exactly {\"request\": \"discover\"}",
                       node.wait_received(lambda t: True, "discover request"))
        p.expect_bytes(node.received[0], {"request": "discover"}, "aiot-ws-gateway -> node")
        uid = await run.step("web client sees the node's resources", web.node_uid("name", "python-ws-node"))
        i, text, _ = await web.wait_for(lambda v: v.get("type") == "new" and v.get("uid") == uid, "new")
        p.expect_bytes(text, p.gw_new(uid), "new to web client")
        _, text, _ = await web.wait_for(lambda v: v.get("uid") == uid and v.get("endpoint") == "temperature",
                                        "temperature")
        p.expect_bytes(text, p.gw_update(uid, "temperature", "23.4°C"), "temperature to web client")
        await web.wait_for(lambda v: v.get("uid") == uid and v.get("endpoint") == "protocol"
                           and v.get("data") == "WebSocket", "protocol WebSocket")
        start = len(web.frames)
        await web.write(uid, "led", "1")
        await run.step("LED write reaches the node as {\"endpoint\": \"led\", \"payload\": \"1\"}",
                       node.wait_received(lambda t: t != node.DISCOVER, "write", 1))
        p.expect_bytes(node.received[1], {"endpoint": "led", "payload": "1"}, "aiot-ws-gateway -> node")
        _, text, _ = await run.step("web client sees led=1 back", web.wait_for(
            lambda v: v.get("uid") == uid and v.get("endpoint") == "led" and v.get("data") == "1",
            "led=1", start))
        p.expect_bytes(text, p.gw_update(uid, "led", "1"), "led update to web client")
        for t in node.received:
            p.check_byte_rule(t, "aiot-ws-gateway -> node")
        node.check()
        node.stop()
        _, text, _ = await run.step("node closes: out", web.wait_for(
            lambda v: v.get("type") == "out" and v.get("uid") == uid, "out"))
        p.expect_bytes(text, {"type": "out", "uid": uid}, "out to web client")
        web.assert_clean()
    finally:
        node.stop()


if __name__ == "__main__":
    p.main("peers_ws_node", scenario)

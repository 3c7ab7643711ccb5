#!/usr/bin/env python3
"""Capture: the bytes the real programs emit obey the byte rule
(json.dumps(json.loads(text), ensure_ascii=False) == text) and are what
pyaiot emits for the same values: frames from aiot-broker to web clients
and to gateways (a Python gateway listens as a spy), from aiot-ws-gateway
to its node, and the payloads aiot-mqtt-gateway publishes (mosquitto_sub).
Values with non-ASCII, escapes, control characters, nested keys in arrival
order and numbers travel from real nodes through the real gateways."""
import json
import uuid

import peerlib as p

# What the ws node sends (json.dumps, ASCII-escaped, as the original node).
WS_VALUES = {
    "name": "capture-ws-node",
    "temperature": "23.4°C",
    "text": "a\tb\u0001c\u007f \"q\" \\ / </x> é€😀",
    "nested": {"z": 1, "a": [True, None, False], "m": {"y": "ü", "b": 2}},
    "numbers": [1.5, -2, 1e-05, 0.1, 1e+16, -0.0, 3.0, 1e100, 0.30000000000000004,
                12345678901234567890, -9223372036854775808],
}
MQTT_VALUES = {"name": "capture-mqtt-node", "led": "0", "temperature": "19.5°C",
               "position": {"lng": 5.7, "lat": 45.2}}


async def scenario(run):
    await run.start_broker()
    web = await p.WebClient.connect(run, "web")
    await web.new()
    spy = await p.PyGateway.connect(run, "spy-gateway")
    spy.reply_to_writes = False
    ws_port = await p.start_ws_gateway(run)
    mqtt = p.Mqtt(run)
    await mqtt.start()
    await p.start_mqtt_gateway(run, mqtt)
    node = await p.start_ws_node(run, ws_port, WS_VALUES)
    node_id = "cap-" + uuid.uuid4().hex[:8]
    mnode = p.MqttNode(mqtt, node_id, MQTT_VALUES)
    try:
        ws_uid = await run.step("ws node announced", web.node_uid("name", "capture-ws-node"))
        await mnode.announce()
        mqtt_uid = await run.step("mqtt node announced", web.node_uid("id", node_id))
        # Each value reaches the page as pyaiot sends it: the gateway's
        # update of the parsed value, re-serialized by json.dumps.
        sent = json.loads(node.sent[0])["data"]
        for key in WS_VALUES:
            _, text, _ = await web.wait_for(lambda v, k=key: v.get("uid") == ws_uid
                                            and v.get("endpoint") == k, f"ws {key}")
            p.expect_bytes(text, p.gw_update(ws_uid, key, sent[key]), f"ws node's {key} to web client")
        for key in MQTT_VALUES:
            _, text, _ = await web.wait_for(lambda v, k=key: v.get("uid") == mqtt_uid
                                            and v.get("endpoint") == k, f"mqtt {key}")
            p.expect_bytes(text, p.gw_update(mqtt_uid, key, MQTT_VALUES[key]),
                           f"mqtt node's {key} to web client")
        # Writes: to the ws node, to the MQTT node; the spy sees them forwarded.
        await web.write(ws_uid, "led", "1")
        await web.write(ws_uid, "text", "é\t\"x\"")
        await web.write(mqtt_uid, "led", "1")
        await run.step("ws node gets both writes", node.wait_received(
            lambda t: '"text"' in t, "write of text"))
        await run.step("mqtt gateway publishes the write", mqtt.wait_captured(
            lambda t, pl: t == f"gateway/{node_id}/led/set", "led/set"))
        await run.step("web client sees the written values", web.wait_for(
            lambda v: v.get("uid") == ws_uid and v.get("endpoint") == "text" and v.get("data") == "é\t\"x\"",
            "text written"))
        await spy.wait_for(lambda v: v.get("type") == "update" and v.get("data", {}).get("uid") == mqtt_uid,
                           "forwarded mqtt write")
        p.expect_bytes(node.received[0], {"request": "discover"}, "aiot-ws-gateway -> node")
        p.expect_bytes(node.received[2], {"endpoint": "text", "payload": "é\t\"x\""}, "aiot-ws-gateway -> node")
        for t in node.received:
            p.check_byte_rule(t, "aiot-ws-gateway -> node")
        for t, pl in mqtt.gateway_publishes():
            p.check_mqtt_payload(t, pl)
        web.assert_clean()
        spy.assert_clean()  # every frame broker -> gateway obeyed the rule
        node.check()
        run.log(f"captured: {len(web.frames)} frames broker -> web client, {len(spy.frames)} broker -> "
                f"gateway, {len(node.received)} ws gateway -> node, {len(mqtt.gateway_publishes())} MQTT publishes")
    finally:
        node.stop()
        mnode.stop()


if __name__ == "__main__":
    p.main("peers_capture", scenario)

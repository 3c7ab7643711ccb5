#!/usr/bin/env python3
"""mosquitto_pub/mosquitto_sub (Debian mosquitto-clients) as an MQTT node,
through Debian's mosquitto on a free port, towards the real
aiot-mqtt-gateway; checked through a web client of the real aiot-broker.
mosquitto_sub captures every publish of the gateway. The gateway's
metrics (checked by promtool) count an invalid publish."""
import asyncio
import uuid

import peerlib as p


async def scenario(run):
    await run.start_broker()
    web = await p.WebClient.connect(run, "web")
    await web.new()
    mqtt = p.Mqtt(run)
    await mqtt.start()
    await p.start_mqtt_gateway(run, mqtt, ["--metrics-port", "0"])
    metrics_port = await run.wait_bound_port("aiot-mqtt-gateway", "metrics on http://")
    node_id = "peer-" + uuid.uuid4().hex[:8]
    node = p.MqttNode(mqtt, node_id, {"name": "mosquitto-node", "led": "0", "temperature": "22.5°C"})
    # the gateway subscribes node/check at connect: publish until it answers
    await node.announce()
    uid = await run.step("web client sees the node (id, name)", web.node_uid("id", node_id))
    _, text, _ = await run.step("web client sees temperature 22.5°C", web.wait_for(
        lambda v: v.get("uid") == uid and v.get("endpoint") == "temperature", "temperature"))
    p.expect_bytes(text, p.gw_update(uid, "temperature", "22.5°C"), "temperature to web client")
    await web.wait_for(lambda v: v.get("uid") == uid and v.get("data") == "MQTT", "protocol MQTT")
    start = len(web.frames)
    await web.write(uid, "led", "1")
    _, (topic, payload) = await run.step("gateway publishes gateway/<id>/led/set 1", mqtt.wait_captured(
        lambda t, pl: t == f"gateway/{node_id}/led/set", "led/set"))
    assert payload == b"1", f"led/set payload {payload!r}"
    _, text, _ = await run.step("web client sees led=1 back", web.wait_for(
        lambda v: v.get("uid") == uid and v.get("endpoint") == "led" and v.get("data") == "1", "led=1", start))
    p.expect_bytes(text, p.gw_update(uid, "led", "1"), "led to web client")
    pubs = mqtt.gateway_publishes()
    for t, pl in pubs:
        p.check_mqtt_payload(t, pl)
    disc = [pl for t, pl in pubs if t == f"gateway/{node_id}/discover"]
    assert disc[:2] == [b"resources", b"values"], f"discover payloads {disc!r}"
    run.log(f"gateway publishes captured: {pubs!r}")

    # A publish on a node topic with no resource list is invalid: counted.
    await mqtt.pub(f"node/{node_id}/resources", "not a list")

    async def rejected():
        m = await asyncio.to_thread(p.scrape, metrics_port)
        return m if m["aiot_mqtt_gateway_messages_rejected_total"] >= 1 else None
    m = await run.step("the metrics count the invalid publish", p.poll("rejected message", rejected))
    assert m["aiot_mqtt_gateway_nodes"] == 1, m
    assert m["aiot_mqtt_gateway_writes_total"] == 1, m
    assert m["aiot_mqtt_gateway_discovery_failures_total"] == 0, m
    node.stop()
    web.assert_clean()


if __name__ == "__main__":
    p.main("peers_mqtt_clients", scenario)

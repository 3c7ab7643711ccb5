#!/usr/bin/env python3
"""aiot-mqtt-gateway over TLS (--mqtt-ssl) against Debian's mosquitto with a
TLS listener, certificates made at run time by the openssl command line:
a node (mosquitto_pub/mosquitto_sub with --cafile) reaches a web client of
the real aiot-broker and an LED write comes back; a gateway given the wrong
CA is refused with OpenSSL's reason in its log and keeps retrying; a
mosquitto that requires client certificates takes a gateway with
--mqtt-cert/--mqtt-key and refuses one without."""
import uuid

import peerlib as p


async def scenario(run):
    certs = await run.step("openssl: test CA, server and client certificates",
                           p.asyncio.to_thread(run.make_certs))
    await run.start_broker()
    web = await p.WebClient.connect(run, "web")
    await web.new()
    mqtt = p.Mqtt(run, tls=certs)
    await run.step("mosquitto with a TLS listener", mqtt.start())
    await p.start_mqtt_gateway(run, mqtt, ["--mqtt-ssl", "--mqtt-ca", certs["ca"]])
    await run.wait_log("aiot-mqtt-gateway",
                       lambda t: f"connected to MQTT broker ssl://127.0.0.1:{mqtt.port}" in t,
                       "TLS connection to mosquitto")
    node_id = "tls-" + uuid.uuid4().hex[:8]
    node = p.MqttNode(mqtt, node_id, {"name": "tls-node", "led": "0", "temperature": "19.5°C"})
    await node.announce()
    uid = await run.step("web client sees the TLS node", web.node_uid("id", node_id))
    _, text, _ = await web.wait_for(
        lambda v: v.get("uid") == uid and v.get("endpoint") == "temperature", "temperature")
    p.expect_bytes(text, p.gw_update(uid, "temperature", "19.5°C"), "temperature to web client")
    start = len(web.frames)
    await web.write(uid, "led", "1")
    await run.step("LED write reaches the node over TLS and comes back", web.wait_for(
        lambda v: v.get("uid") == uid and v.get("endpoint") == "led" and v.get("data") == "1",
        "led=1", start))
    node.stop()

    # The wrong CA: refused with OpenSSL's reason, tried again.
    await p.start_mqtt_gateway(run, mqtt, ["--mqtt-ssl", "--mqtt-ca", certs["wrong_ca"]],
                               name="gateway-wrong-ca")
    marker = f"cannot connect to MQTT broker ssl://127.0.0.1:{mqtt.port}"
    text = await run.step("wrong CA refused, twice (it retries)", run.wait_log(
        "gateway-wrong-ca", lambda t: t.count(marker) >= 2, "two refused attempts"))
    assert "certificate verify failed" in text, "no OpenSSL reason in the log"
    assert "connected to MQTT broker" not in text, "connected with the wrong CA"

    # A broker that requires a client certificate.
    strict = p.Mqtt(run, tls=certs, require_certificate=True, name="mosquitto-strict")
    await run.step("mosquitto requiring client certificates", strict.start())
    await p.start_mqtt_gateway(run, strict, ["--mqtt-ssl", "--mqtt-ca", certs["ca"],
                                             "--mqtt-cert", certs["client_cert"],
                                             "--mqtt-key", certs["client_key"]],
                               name="gateway-client-cert")
    await run.step("gateway with a client certificate connects", run.wait_log(
        "gateway-client-cert",
        lambda t: f"connected to MQTT broker ssl://127.0.0.1:{strict.port}" in t,
        "connection with a client certificate"))
    await p.start_mqtt_gateway(run, strict, ["--mqtt-ssl", "--mqtt-ca", certs["ca"]],
                               name="gateway-no-cert")
    marker = f"cannot connect to MQTT broker ssl://127.0.0.1:{strict.port}"
    text = await run.step("gateway without a client certificate refused", run.wait_log(
        "gateway-no-cert", lambda t: marker in t, "refused attempt"))
    assert "connected to MQTT broker" not in text, "connected without a client certificate"
    web.assert_clean()


if __name__ == "__main__":
    p.main("peers_mqtt_tls", scenario)

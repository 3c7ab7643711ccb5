#!/usr/bin/env python3
"""aiot-mqtt-gateway over TLS (--mqtt-ssl) against Debian's mosquitto with a
TLS listener, certificates made at run time by the openssl command line:
a node (mosquitto_pub/mosquitto_sub with --cafile) reaches a web client of
the real aiot-broker and an LED write comes back; the broker speaks TLS too
(--tls-cert/--tls-key): the gateway's uplink is wss:// (--broker-ssl
--broker-ca) and the web client (python3-websockets) checks the test CA; a
gateway given the wrong CA is refused with OpenSSL's reason in its log
(saying mqtts:// and TLS, not "is an MQTT broker listening") and keeps
retrying; a mosquitto that requires client certificates takes a gateway
with --mqtt-cert/--mqtt-key and refuses one without."""
import uuid

import peerlib as p


async def scenario(run):
    certs = await run.step("openssl: test CA, server and client certificates",
                           p.asyncio.to_thread(run.make_certs))
    await run.start_broker(["--tls-cert", certs["server_cert"], "--tls-key", certs["server_key"]])
    web = await run.step("web client over wss://, checking the test CA", p.WebClient.connect(
        run, "web", p.tls_client_context(certs["ca"])))
    await web.new()
    wss = ["--broker-ssl", "--broker-ca", certs["ca"]]  # every gateway's uplink
    mqtt = p.Mqtt(run, tls=certs)
    await run.step("mosquitto with a TLS listener", mqtt.start())
    await p.start_mqtt_gateway(run, mqtt, ["--mqtt-ssl", "--mqtt-ca", certs["ca"], *wss])
    await run.wait_log("aiot-mqtt-gateway",
                       lambda t: f"connected to MQTT broker mqtts://127.0.0.1:{mqtt.port}" in t,
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
    await p.start_mqtt_gateway(run, mqtt, ["--mqtt-ssl", "--mqtt-ca", certs["wrong_ca"], *wss],
                               name="gateway-wrong-ca")
    marker = f"cannot connect to MQTT broker mqtts://127.0.0.1:{mqtt.port}"
    text = await run.step("wrong CA refused, twice (it retries)", run.wait_log(
        "gateway-wrong-ca", lambda t: t.count(marker) >= 2, "two refused attempts"))
    assert "connected to MQTT broker" not in text, "connected with the wrong CA"
    # The episode's warning: what was tried and OpenSSL's reason, in one line.
    line = await run.wait_log_line("gateway-wrong-ca", f"{marker} (TLS): certificate verify failed")
    assert " warning " in line and "retrying with backoff" in line, line
    assert "listening" not in text, "a TLS failure worded as if nothing listened"

    # A broker that requires a client certificate.
    strict = p.Mqtt(run, tls=certs, require_certificate=True, name="mosquitto-strict")
    await run.step("mosquitto requiring client certificates", strict.start())
    await p.start_mqtt_gateway(run, strict, ["--mqtt-ssl", "--mqtt-ca", certs["ca"],
                                             "--mqtt-cert", certs["client_cert"],
                                             "--mqtt-key", certs["client_key"], *wss],
                               name="gateway-client-cert")
    await run.step("gateway with a client certificate connects", run.wait_log(
        "gateway-client-cert",
        lambda t: f"connected to MQTT broker mqtts://127.0.0.1:{strict.port}" in t,
        "connection with a client certificate"))
    await p.start_mqtt_gateway(run, strict, ["--mqtt-ssl", "--mqtt-ca", certs["ca"], *wss],
                               name="gateway-no-cert")
    marker = f"cannot connect to MQTT broker mqtts://127.0.0.1:{strict.port}"
    text = await run.step("gateway without a client certificate refused", run.wait_log(
        "gateway-no-cert", lambda t: marker in t, "refused attempt"))
    assert "connected to MQTT broker" not in text, "connected without a client certificate"
    web.assert_clean()


if __name__ == "__main__":
    p.main("peers_mqtt_tls", scenario)

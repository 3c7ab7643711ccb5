# aiot node for MicroPython boards (Pycom, ESP32, ...), speaking the MQTT
# topics of the aiot MQTT gateway (PROTOCOL.md section 5):
#   publishes   node/check {"id": <id>} at connect, every CHECK_INTERVAL_S
#               and when the gateway publishes gateway/check;
#   answers     gateway/<id>/discover "resources" with node/<id>/resources
#               ["name", "os", "board", "led", "position"],
#               gateway/<id>/discover "values" with node/<id>/<resource>
#               {"value": V} for each resource;
#   follows     gateway/<id>/led/set "0"/"1" (and name/set), then publishes
#               the new value.
# Settings come from config.py (see config_example.py). The script only uses
# what MicroPython and CPython both have, so the test suite runs it on the
# host with small stand-ins for the board modules.
try:
    import ujson as json
except ImportError:
    import json
try:
    import utime as time
except ImportError:
    import time
try:
    import ubinascii as binascii
except ImportError:
    import binascii

import machine
from umqtt.simple import MQTTClient, MQTTException

try:
    import config
except ImportError:
    print("aiot: config.py is missing: copy config_example.py to config.py and edit it")
    raise

RETRY_S = 5
MAX_PENDING = 16        # replies waiting to be published, at most


def setting(name, default=None):
    return getattr(config, name, default)


def now_ms():
    if hasattr(time, "ticks_ms"):
        return time.ticks_ms()
    return int(time.monotonic() * 1000)


def elapsed_ms(start):
    if hasattr(time, "ticks_diff"):
        return time.ticks_diff(now_ms(), start)
    return now_ms() - start


def sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


def default_node_id():
    return "mpy-" + binascii.hexlify(machine.unique_id()).decode()


def default_board():
    try:
        import os
        return os.uname().machine
    except (ImportError, AttributeError):
        return "unknown"


def valid_id(node_id):
    return (isinstance(node_id, str) and 0 < len(node_id) <= 64 and
            not any(c in node_id for c in "/+#") and
            all(ord(c) >= 0x20 for c in node_id))


class Led:
    """The dashboard's LED: a GPIO, a Pycom RGB LED, or only a value."""

    def __init__(self, pin, active_low):
        self.value = 0
        self._pin = None
        self._pycom = None
        self._active_low = active_low
        if pin is not None:
            self._pin = machine.Pin(pin, machine.Pin.OUT)
        else:
            try:
                import pycom
                pycom.heartbeat(False)
                self._pycom = pycom
            except ImportError:
                pass
        self.set(0)

    def set(self, on):
        self.value = 1 if on else 0
        if self._pin is not None:
            self._pin.value(self.value ^ (1 if self._active_low else 0))
        elif self._pycom is not None:
            self._pycom.rgbled(0x7f0000 if self.value else 0x000000)


def parse_switch(text):
    """0 or 1 from "0"/"1" (also quoted or as {"value": ...}); None if invalid."""
    text = text.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return None
        if not isinstance(obj, dict) or list(obj.keys()) != ["value"]:
            return None
        text = str(obj["value"])
    if len(text) == 3 and text[0] == '"' and text[2] == '"':
        text = text[1]
    if text in ("0", "1"):
        return int(text)
    return None


class Node:
    """The protocol, without I/O: handle() maps a received message to the
    messages to publish, as (topic, payload text) pairs."""

    def __init__(self, node_id, name, board, position, led):
        self.node_id = node_id
        self.name = name
        self.board = board
        self.position = position
        self.led = led

    def resources(self):
        names = ["name", "os", "board", "led"]
        if self.position is not None:
            names.append("position")
        return names

    def value(self, resource):
        if resource == "name":
            return self.name
        if resource == "os":
            return "micropython"
        if resource == "board":
            return self.board
        if resource == "led":
            return str(self.led.value)
        if resource == "position":
            return self.position
        return None

    def check(self):
        return ("node/check", json.dumps({"id": self.node_id}))

    def value_message(self, resource):
        return ("node/{}/{}".format(self.node_id, resource),
                json.dumps({"value": self.value(resource)}))

    def handle(self, topic, payload):
        prefix = "gateway/{}/".format(self.node_id)
        if topic == "gateway/check":
            return [self.check()]
        if not topic.startswith(prefix):
            print("aiot: ignored message on", topic)
            return []
        rest = topic[len(prefix):]
        if rest == "discover":
            if payload == "resources":
                return [("node/{}/resources".format(self.node_id),
                         json.dumps(self.resources()))]
            if payload == "values":
                return [self.value_message(r) for r in self.resources()]
            print("aiot: ignored discover request", repr(payload[:32]))
            return []
        if rest == "led/set":
            on = parse_switch(payload)
            if on is None:
                print("aiot: ignored LED value", repr(payload[:32]), "(want 0 or 1)")
                return []
            self.led.set(on)
            print("aiot: LED", "on" if on else "off")
            return [self.value_message("led")]
        if rest == "name/set":
            name = payload.strip()
            if not 0 < len(name) <= 48 or any(ord(c) < 0x20 for c in name):
                print("aiot: ignored name of", len(payload), "characters")
                return []
            self.name = name
            return [self.value_message("name")]
        print("aiot: ignored message on", topic)
        return []


def connect_wifi():
    ssid = setting("WIFI_SSID")
    if not ssid:
        return
    import network
    if hasattr(network, "STA_IF"):         # MicroPython ESP32/ESP8266/Pico W
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        if not wlan.isconnected():
            wlan.connect(ssid, setting("WIFI_PASSWORD"))
    else:                                   # Pycom
        wlan = network.WLAN(mode=network.WLAN.STA)
        if not wlan.isconnected():
            wlan.connect(ssid, auth=(network.WLAN.WPA2, setting("WIFI_PASSWORD")),
                         timeout=setting("WIFI_TIMEOUT_S", 20) * 1000)
    start = now_ms()
    while not wlan.isconnected():
        if elapsed_ms(start) > setting("WIFI_TIMEOUT_S", 20) * 1000:
            raise OSError("Wi-Fi '{}' not joined".format(ssid))
        sleep_ms(200)
    print("aiot: Wi-Fi", ssid, "joined:", wlan.ifconfig()[0])


def decode(data):
    if isinstance(data, str):
        return data
    try:
        return data.decode()
    except UnicodeError:
        return None


def serve(node, client):
    """Runs one MQTT session until a network error (raised as OSError)."""
    pending = []

    def on_message(topic, payload):
        topic_text = decode(topic)
        payload_text = decode(payload)
        if topic_text is None or payload_text is None:
            print("aiot: ignored a message that is not UTF-8")
            return
        for reply in node.handle(topic_text, payload_text):
            if len(pending) < MAX_PENDING:
                pending.append(reply)
            else:
                print("aiot: too many requests, dropped a reply on", reply[0])

    client.set_callback(on_message)
    client.connect()
    for topic in ("gateway/check",
                  "gateway/{}/discover".format(node.node_id),
                  "gateway/{}/led/set".format(node.node_id),
                  "gateway/{}/name/set".format(node.node_id)):
        client.subscribe(topic.encode(), qos=1)
    print("aiot: connected to MQTT broker as", node.node_id)
    interval_ms = setting("CHECK_INTERVAL_S", 30) * 1000
    pending.append(node.check())
    last_check = now_ms()
    while True:
        while pending:
            topic, payload = pending.pop(0)
            # bytes: umqtt counts the length of a str in characters
            client.publish(topic.encode(), payload.encode())
        client.check_msg()
        if elapsed_ms(last_check) >= interval_ms:
            pending.append(node.check())
            last_check = now_ms()
        elif not pending:
            sleep_ms(50)


def run():
    node_id = setting("NODE_ID") or default_node_id()
    if not valid_id(node_id):
        print("aiot: NODE_ID", repr(node_id), "cannot be used in MQTT topics")
        return
    led = Led(setting("LED_PIN"), setting("LED_ACTIVE_LOW", False))
    node = Node(node_id, setting("NODE_NAME", "MicroPython node"),
                setting("BOARD") or default_board(), setting("POSITION"), led)
    # umqtt.simple sends no pings of its own: node/check keeps the session
    # alive, so the keep-alive must be longer than the check interval
    keepalive = max(60, 3 * setting("CHECK_INTERVAL_S", 30))
    print("aiot: node", node_id, "broker", setting("MQTT_HOST"), setting("MQTT_PORT", 1886))
    while True:
        client = None
        try:
            connect_wifi()
            client = MQTTClient(node_id, setting("MQTT_HOST"),
                                port=setting("MQTT_PORT", 1886),
                                user=setting("MQTT_USER"),
                                password=setting("MQTT_PASSWORD"),
                                keepalive=keepalive)
            serve(node, client)
        except (OSError, MQTTException) as error:
            print("aiot: connection lost ({}), retrying in {} s".format(repr(error), RETRY_S))
        if client is not None:
            try:
                client.disconnect()
            except OSError:
                pass
        sleep_ms(RETRY_S * 1000)


run()

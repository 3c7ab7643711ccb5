# Stand-in for MicroPython's umqtt.simple on the host, mapped onto Debian's
# python3-paho-mqtt (1.6). It keeps umqtt's blocking, single-threaded
# behaviour: connect() and subscribe() wait for the broker's answer,
# check_msg() delivers what has arrived to the callback on the caller's
# thread, network errors raise OSError.
import time

import paho.mqtt.client as paho

TIMEOUT_S = 10


class MQTTException(Exception):
    pass


def _text(topic):
    # umqtt takes topics as bytes or str; paho wants str
    return topic.decode() if isinstance(topic, (bytes, bytearray)) else topic


class MQTTClient:
    def __init__(self, client_id, server, port=0, user=None, password=None,
                 keepalive=0, ssl=False, ssl_params=None):
        if isinstance(client_id, bytes):
            client_id = client_id.decode()
        self._server = server
        self._port = port or 1883
        self._keepalive = keepalive
        self._cb = None
        self._connack = None
        self._acked = set()
        self._client = paho.Client(client_id=client_id, clean_session=True)
        if user is not None:
            self._client.username_pw_set(user, password)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_ack
        self._client.on_publish = self._on_ack
        self._client.on_message = self._on_message

    def _on_connect(self, client, userdata, flags, rc):
        self._connack = rc

    def _on_ack(self, client, userdata, mid, *rest):
        self._acked.add(mid)

    def _on_message(self, client, userdata, message):
        if self._cb is not None:
            self._cb(message.topic.encode(), message.payload)

    def _loop(self, timeout):
        rc = self._client.loop(timeout=timeout)
        if rc != paho.MQTT_ERR_SUCCESS:
            raise OSError(rc, paho.error_string(rc))

    def _wait(self, done):
        deadline = time.monotonic() + TIMEOUT_S
        while not done():
            if time.monotonic() > deadline:
                raise OSError("timeout waiting for the broker")
            self._loop(0.05)

    def set_callback(self, f):
        self._cb = f

    def set_last_will(self, topic, msg, retain=False, qos=0):
        self._client.will_set(topic, msg, qos, retain)

    def connect(self, clean_session=True):
        self._connack = None
        try:
            self._client.connect(self._server, self._port, self._keepalive)
        except (OSError, ValueError) as error:
            raise OSError(str(error))
        self._wait(lambda: self._connack is not None)
        if self._connack != 0:
            raise MQTTException(self._connack)
        return False

    def disconnect(self):
        self._client.disconnect()

    def ping(self):
        self._loop(0)

    def publish(self, topic, msg, retain=False, qos=0):
        info = self._client.publish(_text(topic), msg, qos, retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise OSError(info.rc, paho.error_string(info.rc))
        if qos > 0:
            self._wait(lambda: info.mid in self._acked)
            self._acked.discard(info.mid)

    def subscribe(self, topic, qos=0):
        rc, mid = self._client.subscribe(_text(topic), qos)
        if rc != paho.MQTT_ERR_SUCCESS:
            raise OSError(rc, paho.error_string(rc))
        self._wait(lambda: mid in self._acked)
        self._acked.discard(mid)

    def wait_msg(self):
        self._loop(1.0)

    def check_msg(self):
        self._loop(0)

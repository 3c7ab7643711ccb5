# Settings of the aiot MicroPython node. Copy this file to config.py, edit
# it, and copy both main.py and config.py to the board. config.py holds your
# Wi-Fi password: git ignores it, never commit it.

# Wi-Fi (None: do not touch the network, e.g. a board on Ethernet).
WIFI_SSID = "my-network"
WIFI_PASSWORD = "change-me"
WIFI_TIMEOUT_S = 20

# The MQTT broker the aiot MQTT gateway uses (mosquitto, port 1886 in the
# aiot defaults).
MQTT_HOST = "192.168.1.10"
MQTT_PORT = 1886
MQTT_USER = None
MQTT_PASSWORD = None

# The node id used in the topics (node/<id>/...): letters, digits, '-', '_'.
# None: "mpy-" followed by the board's unique id in hex.
NODE_ID = None

# Resources shown on the dashboard.
NODE_NAME = "MicroPython node"
BOARD = None            # None: the board name MicroPython reports
POSITION = {"lat": 48.7145, "lng": 2.2058}   # None: no position resource

# The LED switched from the dashboard: a GPIO number (e.g. 2 on many ESP32
# boards), or None for a Pycom board's RGB LED (or no LED at all).
LED_PIN = None
LED_ACTIVE_LOW = False

# Seconds between two node/check messages (the gateway forgets a node it has
# not heard from for --max-time seconds, 120 by default).
CHECK_INTERVAL_S = 30

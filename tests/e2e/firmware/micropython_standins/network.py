# Stand-in for MicroPython's network module (ESP32 flavour) on the host:
# the "Wi-Fi" joins at once; the host's loopback is the network.
STA_IF = 0
AP_IF = 1


class WLAN:
    def __init__(self, interface=STA_IF):
        self._active = False
        self._connected = False

    def active(self, active=None):
        if active is None:
            return self._active
        self._active = bool(active)

    def connect(self, ssid, key=None):
        print("[network] joining", ssid, flush=True)
        self._connected = self._active

    def isconnected(self):
        return self._connected

    def ifconfig(self):
        return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")

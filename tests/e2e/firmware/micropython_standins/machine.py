# Stand-in for MicroPython's machine module on the host (tests only).
# Pin writes are printed, so a test can see the node drive its LED.
import os


def unique_id():
    return bytes.fromhex(os.environ.get("AIOT_TEST_UNIQUE_ID", "a1b2c3d4e5f6"))


def idle():
    pass


class Pin:
    IN = 0
    OUT = 1

    def __init__(self, pin_id, mode=-1, value=None):
        self._id = pin_id
        self._value = 0
        if value is not None:
            self.value(value)

    def value(self, value=None):
        if value is None:
            return self._value
        self._value = 1 if value else 0
        print("[machine] Pin({}) value {}".format(self._id, self._value), flush=True)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

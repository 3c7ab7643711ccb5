# Runs the MicroPython node script (firmware/micropython/main.py) unchanged
# on the real MicroPython interpreter (the unix port) for the tests:
#   micropython run_micropython_node_mpy.py <config folder> <main.py> <lib folder>
# The config folder holds the test's config.py; the lib folder holds
# micropython-lib's umqtt.simple. No stand-ins: the unix port's own machine
# module, no network module (config: WIFI_SSID = None, LED_PIN = None).
import sys

config_dir, script, lib_dir = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, lib_dir)
sys.path.insert(0, config_dir)
print("aiot-test: running on", sys.implementation.name,
      ".".join(str(n) for n in sys.implementation.version[:3]))
with open(script) as f:
    source = f.read()
exec(source, {"__name__": "__main__"})

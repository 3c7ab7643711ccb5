# Runs the MicroPython node script (firmware/micropython/main.py) unchanged
# under CPython for the tests:
#   python3 -u -I -B run_micropython_node.py <config folder> <main.py>
# The config folder holds the test's config.py; the board-only modules come
# from micropython_standins/ next to this file.
import os
import runpy
import sys

here = os.path.dirname(os.path.abspath(__file__))
config_dir, script = sys.argv[1], sys.argv[2]
sys.path[:0] = [config_dir, os.path.join(here, "micropython_standins")]
sys.argv = [script]
runpy.run_path(script, run_name="__main__")

# Stand-in for Pycom's pycom module on the host: RGB LED changes are printed.
def heartbeat(on=None):
    if on is not None:
        print("[pycom] heartbeat", bool(on), flush=True)


def rgbled(color):
    print("[pycom] rgbled 0x{:06x}".format(color), flush=True)

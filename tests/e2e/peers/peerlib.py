"""Helpers of the peer tests: the real aiot daemons against software nobody
here wrote (Debian's python3-websocket, python3-websockets,
python3-cryptography, mosquitto, mosquitto-clients, libcoap3-bin).

Nothing here uses aiot's own code: messages are made and checked with
Python's json module, which is the reference of the byte rule
(docs/PROTOCOL.md, "Bytes"): every JSON text aiot emits must equal
json.dumps(json.loads(text), ensure_ascii=False).
"""

import argparse
import asyncio
import configparser
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websockets  # python3-websockets (asyncio)
import websockets.exceptions

DEADLINE = 10.0  # seconds any single expected event may take


def python_dumps(value):
    """The original's serializer: what pyaiot puts on the wire."""
    return json.dumps(value, ensure_ascii=False)


def check_byte_rule(text, where):
    """Parses `text` and checks it is byte for byte what Python emits for
    the same value; returns the value."""
    try:
        value = json.loads(text)
    except ValueError as e:
        raise AssertionError(f"{where}: not JSON ({e}): {text!r}") from None
    expected = python_dumps(value)
    if text != expected:
        raise AssertionError(f"{where}: breaks the byte rule\n"
                             f"  received: {text!r}\n"
                             f"  json.dumps(json.loads(received), ensure_ascii=False): {expected!r}")
    return value


def expect_bytes(received, expected_value, where):
    """`received` must be exactly Python's json.dumps(expected_value)."""
    expected = python_dumps(expected_value)
    if received != expected:
        raise AssertionError(f"{where}: unexpected bytes\n"
                             f"  received: {received!r}\n"
                             f"  expected: {expected!r}")


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--broker", required=True, help="aiot-broker binary")
    p.add_argument("--generate-keys", required=True, help="aiot-generate-keys binary")
    p.add_argument("--ws-gateway", help="aiot-ws-gateway binary")
    p.add_argument("--coap-gateway", help="aiot-coap-gateway binary")
    p.add_argument("--mqtt-gateway", help="aiot-mqtt-gateway binary")
    p.add_argument("--dashboard", help="aiot-dashboard binary")
    p.add_argument("--mosquitto", default="/usr/sbin/mosquitto")
    p.add_argument("--mosquitto-pub", default="mosquitto_pub")
    p.add_argument("--mosquitto-sub", default="mosquitto_sub")
    p.add_argument("--coap-client", default="coap-client-openssl")
    p.add_argument("--coap-test-node", help="coap-test-node binary")
    p.add_argument("--openssl", default="openssl")
    p.add_argument("--nats-server", default="nats-server")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    return p.parse_args()


_used_ports = set()


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port free right now (bound to port 0, then closed); another
    test may take it before it is used. Only for peers that need their port
    up front (mosquitto, a CoAP node's port): start our daemons on port 0 and
    read the port back with Run.wait_bound_port."""
    while True:
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port


class Run:
    """The processes of one test, their logs in a temporary folder, and a
    clock for the test's own log lines."""

    def __init__(self, name, args):
        self.name = name
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix=f"aiot-peers-{name}-")
        self.procs = []  # (name, Popen, log path, is_daemon)
        self.t0 = time.monotonic()
        self.timings = []

    def log(self, msg):
        print(f"[{time.monotonic() - self.t0:6.2f} s] {msg}", flush=True)

    def start(self, name, argv, stdout=None, daemon=True):
        path = os.path.join(self.tmp, f"{name}.log")
        logf = open(path, "wb")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=stdout if stdout is not None else logf,
                                stderr=logf, start_new_session=True)
        logf.close()
        self.procs.append((name, proc, path, daemon))
        self.log(f"started {name} (pid {proc.pid}): {' '.join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))}")
        return proc

    def check_alive(self):
        for name, proc, path, daemon in self.procs:
            if daemon and proc.poll() is not None:
                raise AssertionError(f"{name} exited early with status {proc.returncode}")

    def kill(self, name, sig=signal.SIGKILL):
        """Ends `name` with sig and waits for it; it is no longer expected
        to run (check_alive)."""
        for i, (n, proc, path, _) in enumerate(self.procs):
            if n == name and proc.poll() is None:
                proc.send_signal(sig)
                proc.wait(timeout=DEADLINE)
                self.procs[i] = (n, proc, path, False)
                self.log(f"{name} ended by signal {int(sig)}")

    def stop(self):
        for name, proc, _, _ in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        end = time.monotonic() + 3
        for name, proc, _, _ in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(f"{name} ignored SIGTERM: killed")
                proc.kill()
                proc.wait()

    def dump_logs(self):
        for name, _, path, _ in self.procs:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            tail = data[-4000:].decode("utf-8", "replace")
            print(f"----- {name} log (last {len(tail)} characters) -----\n{tail}", flush=True)

    def cleanup(self):
        if self.args.keep:
            print(f"logs kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # The key file, written by aiot-generate-keys, and a gateway token made
    # from it with python3-cryptography.
    def make_keys(self):
        path = os.path.join(self.tmp, "keys")
        subprocess.run([self.args.generate_keys, "--key-file", path], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        cp = configparser.ConfigParser()
        cp.read(path)
        self.key_file = path
        self.secret = cp["keys"]["secret"]
        self.private = cp["keys"]["private"]
        return path

    def make_certs(self):
        """Test certificates made now with the openssl command line (nothing
        is committed): a CA, a server certificate for localhost and
        127.0.0.1, one for the name localhost only (not the address), a
        client certificate, and a second CA that signed none (the wrong CA).
        Returns {name: path}: ca, server_cert, server_key,
        name_only_cert, name_only_key, client_cert, client_key, wrong_ca."""
        d = os.path.join(self.tmp, "certs")
        os.makedirs(d, exist_ok=True)
        path = lambda name: os.path.join(d, name)
        ossl = self.args.openssl

        def run_openssl(*argv):
            r = subprocess.run([ossl, *argv], capture_output=True, timeout=30)
            if r.returncode != 0:
                raise AssertionError(f"openssl {' '.join(argv)} failed: "
                                     f"{r.stderr.decode('utf-8', 'replace')}")

        def new_ca(name):
            run_openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", path(f"{name}.key"), "-out", path(f"{name}.pem"),
                        "-days", "2", "-subj", f"/CN=aiot test {name}",
                        "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,keyCertSign,cRLSign")

        def new_leaf(name, cn, ext):
            with open(path(f"{name}.ext"), "w") as f:
                f.write(ext)
            run_openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", path(f"{name}.key"), "-out", path(f"{name}.csr"),
                        "-subj", f"/CN={cn}")
            run_openssl("x509", "-req", "-in", path(f"{name}.csr"), "-CA", path("ca.pem"),
                        "-CAkey", path("ca.key"), "-CAcreateserial", "-days", "2",
                        "-extfile", path(f"{name}.ext"), "-out", path(f"{name}.pem"))

        new_ca("ca")
        new_ca("wrong-ca")
        new_leaf("server", "localhost", "basicConstraints=CA:FALSE\n"
                 "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        new_leaf("server-name-only", "localhost", "basicConstraints=CA:FALSE\n"
                 "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
        new_leaf("client", "aiot-gateway", "basicConstraints=CA:FALSE\n"
                 "extendedKeyUsage=clientAuth\n")
        # mosquitto started as root reads them as the user it drops to: the
        # run's folder may be crossed (not listed), its certs/ read.
        os.chmod(self.tmp, 0o711)
        os.chmod(d, 0o755)
        for name in os.listdir(d):
            os.chmod(path(name), 0o644)
        return {"ca": path("ca.pem"), "server_cert": path("server.pem"),
                "server_key": path("server.key"), "name_only_cert": path("server-name-only.pem"),
                "name_only_key": path("server-name-only.key"), "client_cert": path("client.pem"),
                "client_key": path("client.key"), "wrong_ca": path("wrong-ca.pem")}

    def log_text(self, name):
        path = next(p for n, _, p, _ in self.procs if n == name)
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    async def wait_log(self, name, pred, what, timeout=DEADLINE):
        """Waits until pred(log text of `name`) is true; returns the text."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text(name)
            if pred(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{name}: no {what} in its log within {timeout} s")
            await asyncio.sleep(0.05)

    def token(self):
        from cryptography.fernet import Fernet  # python3-cryptography
        return Fernet(self.private.encode()).encrypt(self.secret.encode()).decode()

    async def wait_tcp(self, port, what, timeout=DEADLINE):
        deadline = time.monotonic() + timeout
        while True:
            try:
                _, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                return
            except OSError:
                pass
            self.check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} does not listen on 127.0.0.1:{port} after {timeout} s")
            await asyncio.sleep(0.05)

    async def wait_bound_port(self, name, marker, timeout=DEADLINE):
        """The port a daemon started on port 0 bound, read from the first
        complete line of its log containing marker ("listening on
        127.0.0.1:PORT ..."): no port is chosen before it binds, so no
        other test can take it in between."""
        path = next(p for n, _, p, _ in self.procs if n == name)
        deadline = time.monotonic() + timeout
        while True:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            for line in text.splitlines(keepends=True):
                at = line.find(marker)
                if at >= 0 and line.endswith("\n"):
                    m = re.search(r"(?<=[0-9\]]):([0-9]{1,5})(?![0-9])", line[at + len(marker):])
                    if m:
                        return int(m.group(1))
            self.check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} printed no '{marker}' line with a port "
                                     f"after {timeout} s")
            await asyncio.sleep(0.05)

    async def wait_log_line(self, name, marker, timeout=DEADLINE):
        """The first complete line of `name`'s log that contains marker."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_text(name).splitlines(keepends=True):
                if marker in line and line.endswith("\n"):
                    return line.rstrip("\n")
            self.check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} logged no line with '{marker}' after {timeout} s")
            await asyncio.sleep(0.05)

    async def start_broker(self, extra=(), name="aiot-broker"):
        """Starts a broker on port 0; its port becomes broker_port (where
        WebClient.connect and gateway_common go)."""
        self.start(name, [self.args.broker, "--bind", "127.0.0.1",
                          "--broker-port", "0", "--key-file", self.key_file, "--debug",
                          *extra])
        port = await self.wait_bound_port(name, "listening on")
        self.broker_port = port
        return port

    def gateway_common(self):
        return ["--broker-host", "127.0.0.1", "--broker-port", str(self.broker_port),
                "--key-file", self.key_file, "--debug"]

    async def step(self, what, coro):
        """Runs one step and records how long it took."""
        t = time.monotonic()
        self.log(f"-> {what}")
        result = await coro
        self.timings.append((what, time.monotonic() - t))
        return result


def tls_client_context(ca_file):
    """A client context that verifies the server against ca_file only."""
    import ssl
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def main(name, scenario):
    """Runs `scenario(run)` (a coroutine function) bounded in time; prints
    the daemons' logs on failure; exit status 0 on success, 1 on failure."""
    args = parse_args(name)
    run = Run(name, args)
    ok = False
    try:
        run.make_keys()
        asyncio.run(asyncio.wait_for(scenario(run), timeout=40))
        ok = True
    except AssertionError as e:
        print(f"FAIL {name}: {e}", flush=True)
    except asyncio.TimeoutError:
        print(f"FAIL {name}: the scenario took more than 40 s", flush=True)
    except Exception as e:  # pragma: no cover - anything else is a failure too
        import traceback
        traceback.print_exc()
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    finally:
        run.stop()
        if not ok:
            run.dump_logs()
        run.cleanup()
    for what, secs in run.timings:
        print(f"  {secs:6.3f} s  {what}")
    print(f"{'PASS' if ok else 'FAIL'} {name} in {time.monotonic() - run.t0:.2f} s", flush=True)
    sys.exit(0 if ok else 1)


class Peer:
    """A websocket peer (python3-websockets) on the broker that collects
    every text frame it receives, each checked against the byte rule. A
    peer that asked aiot-broker for batches (lines=True) takes every line
    of a frame for one message; `texts` keeps the frames as received."""

    def __init__(self, run, name, ws, where, lines=False):
        self.run = run
        self.name = name
        self.ws = ws
        self.where = where
        self.lines = lines
        self.texts = []  # the frames as received
        self.frames = []  # (text, value), one per message
        self.errors = []
        self.closed = None
        self._event = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self):
        try:
            async for msg in self.ws:
                if not isinstance(msg, str):
                    self.errors.append(f"{self.where}: binary frame {msg!r}")
                    continue
                self.texts.append(msg)
                for text in msg.split("\n") if self.lines else [msg]:
                    try:
                        value = check_byte_rule(text, self.where)
                    except AssertionError as e:
                        self.errors.append(str(e))
                        value = None
                    self.frames.append((text, value))
                    await self.on_frame(text, value)
                self._event.set()
        except websockets.exceptions.ConnectionClosed as e:
            self.closed = e
        except Exception as e:
            self.errors.append(f"{self.where}: {type(e).__name__}: {e}")
        self._event.set()

    async def on_frame(self, text, value):
        pass

    def assert_clean(self):
        if self.errors:
            raise AssertionError("\n".join(self.errors))

    async def wait_for(self, pred, what, start=0, timeout=DEADLINE):
        """The first frame from index `start` whose value satisfies `pred`:
        (index, text, value)."""
        deadline = time.monotonic() + timeout
        while True:
            self.assert_clean()
            for i in range(start, len(self.frames)):
                text, value = self.frames[i]
                if value is not None and pred(value):
                    return i, text, value
            if self.closed is not None:
                raise AssertionError(f"{self.name}: connection closed ({self.closed}) "
                                     f"before {what}")
            self.run.check_alive()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                got = "\n    ".join(t for t, _ in self.frames[start:][-20:])
                raise AssertionError(f"{self.name}: no {what} within {timeout} s; "
                                     f"received since:\n    {got}")
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), min(remaining, 0.2))
            except asyncio.TimeoutError:
                pass

    async def barrier(self):
        """A ping answered: the broker has written everything it queued for
        this connection before it read the ping."""
        pong = await self.ws.ping()
        await asyncio.wait_for(pong, DEADLINE)
        for _ in range(5):
            await asyncio.sleep(0)

    async def send(self, text):
        await self.ws.send(text)

    async def close(self):
        await self.ws.close()
        self._task.cancel()


class WebClient(Peer):
    @classmethod
    async def connect(cls, run, name, ssl_context=None, host="127.0.0.1", port=None, batch_ms=None):
        """ssl_context: wss:// verified with it (tls_client_context); port:
        another broker than run.broker_port; batch_ms: asks for batches
        (/ws?batch=MS, one message per line), as aiot's dashboard does."""
        scheme = "wss" if ssl_context is not None else "ws"
        query = f"?batch={batch_ms}" if batch_ms is not None else ""
        ws = await websockets.connect(f"{scheme}://{host}:{port or run.broker_port}/ws{query}", open_timeout=DEADLINE,
                                      close_timeout=1, ping_interval=None, max_size=None, ssl=ssl_context)
        return cls(run, name, ws, f"broker -> web client {name}", lines=batch_ms is not None)

    async def new(self):
        await self.send('{"type": "new", "data": "client"}')

    async def write(self, uid, endpoint, payload):
        await self.send(python_dumps({"type": "update",
                                      "data": {"uid": uid, "endpoint": endpoint, "payload": payload}}))

    async def node_uid(self, endpoint, data, start=0):
        """The uid of the node whose `endpoint` is announced as `data`."""
        _, _, v = await self.wait_for(
            lambda v: v.get("type") == "update" and v.get("endpoint") == endpoint
            and v.get("data") == data, f"update {endpoint}={data!r}", start)
        return v["uid"]


def gw_update(uid, endpoint, data, dst="all"):
    """A gateway update as pyaiot builds it (key order of the original)."""
    return {"type": "update", "uid": uid, "endpoint": endpoint, "data": data, "dst": dst}


def gw_new(uid, dst="all"):
    return {"type": "new", "uid": uid, "dst": dst}


class PyGateway(Peer):
    """A gateway written here in Python on python3-websockets, holding a
    real token (python3-cryptography's Fernet from the key file). It sends
    its messages compact, with non-ASCII escaped (valid JSON that aiot must
    parse and re-serialize), replays its cache to a client's `new` and
    answers a write with an update for the writing client only (dst)."""

    @classmethod
    async def connect(cls, run, name):
        ws = await websockets.connect(f"ws://127.0.0.1:{run.broker_port}/gw",
                                      subprotocols=["token", run.token()],
                                      open_timeout=DEADLINE, close_timeout=1, ping_interval=None, max_size=None)
        gw = cls(run, name, ws, f"broker -> gateway {name}")
        gw.cache = []  # (uid, endpoint or None, value) in order
        gw.news = {}   # client id -> number of `new` forwarded
        gw.writes = []  # (src, data)
        gw.reply_to_writes = True
        return gw

    @staticmethod
    def compact(value):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=True)

    async def announce(self, uid, resources):
        self.cache.append((uid, None, None))
        await self.send(self.compact(gw_new(uid)))
        for endpoint, value in resources:
            self.cache.append((uid, endpoint, value))
            await self.send(self.compact(gw_update(uid, endpoint, value)))

    async def on_frame(self, text, value):
        if not isinstance(value, dict):
            return
        src = value.get("src")
        if value.get("type") == "new":
            self.news[src] = self.news.get(src, 0) + 1
            for uid, endpoint, v in self.cache:
                msg = gw_new(uid, src) if endpoint is None else gw_update(uid, endpoint, v, src)
                await self.send(self.compact(msg))
        elif value.get("type") == "update":
            data = value.get("data")
            self.writes.append((src, data))
            if self.reply_to_writes and isinstance(data, dict):
                await self.send(self.compact(gw_update(data.get("uid"), data.get("endpoint"),
                                                       data.get("payload"), src)))


class WsNode(threading.Thread):
    """A websocket node on Debian's python3-websocket (websocket-client),
    behaving like pyaiot's original ws test node: a text equal to
    '{"request": "discover"}' (compared as text) makes it send all its
    resources; any other text is taken for a write {"endpoint", "payload"}
    and answered with an update of that resource. Like the original, a text
    that is not a valid write makes it fail (recorded in `error`)."""

    DISCOVER = '{"request": "discover"}'

    def __init__(self, url, resources):
        super().__init__(daemon=True)
        self.url = url
        self.resources = dict(resources)
        self.received = []  # texts from the gateway
        self.sent = []
        self.error = None
        self.connected = threading.Event()
        self.done = threading.Event()
        self._stopping = False
        self.ws = None

    def _send(self, obj):
        text = json.dumps(obj)  # the original: json.dumps, ASCII-escaped
        self.sent.append(text)
        self.ws.send(text)

    def run(self):
        import websocket  # python3-websocket
        try:
            self.ws = websocket.create_connection(self.url, timeout=DEADLINE)
            self.ws.settimeout(0.2)
            self.connected.set()
            while not self._stopping:
                try:
                    msg = self.ws.recv()
                except websocket.WebSocketTimeoutException:
                    continue
                if isinstance(msg, bytes):
                    msg = msg.decode()
                self.received.append(msg)
                if msg == self.DISCOVER:
                    self._send({"type": "update", "data": self.resources})
                else:
                    write = json.loads(msg)
                    endpoint, payload = write["endpoint"], write["payload"]
                    self.resources[endpoint] = payload
                    self._send({"type": "update", "data": {endpoint: payload}})
        except websocket.WebSocketConnectionClosedException as e:
            if not self._stopping:
                self.error = f"connection closed by the gateway: {e}"
        except Exception as e:
            if not self._stopping:
                self.error = (f"{type(e).__name__}: {e} (texts received: {self.received!r})")
        finally:
            self.done.set()

    def stop(self):
        self._stopping = True
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:
                pass
        self.join(timeout=3)

    def check(self):
        if self.error:
            raise AssertionError(f"python ws node failed: {self.error}")

    async def wait_received(self, pred, what, start=0, timeout=DEADLINE):
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            for i in range(start, len(self.received)):
                if pred(self.received[i]):
                    return i, self.received[i]
            if time.monotonic() > deadline:
                raise AssertionError(f"python ws node: no {what} within {timeout} s; "
                                     f"received {self.received!r}")
            await asyncio.sleep(0.02)


async def start_ws_gateway(run, extra=()):
    run.start("aiot-ws-gateway", [run.args.ws_gateway, "--gateway-bind", "127.0.0.1",
                                  "--gateway-port", "0", *extra] + run.gateway_common())
    return await run.wait_bound_port("aiot-ws-gateway", "listening for websocket nodes")


async def start_ws_node(run, port, resources):
    node = WsNode(f"ws://127.0.0.1:{port}/node", resources)
    node.start()
    if not await asyncio.to_thread(node.connected.wait, DEADLINE):
        node.check()
        raise AssertionError("python ws node: could not connect to aiot-ws-gateway")
    return node


class Mqtt:
    """Debian's mosquitto on a free loopback port, with mosquitto_sub
    capturing everything published under gateway/# (topic and payload in
    hex, so the bytes are exact), and mosquitto_pub for the node side."""

    def __init__(self, run, tls=None, require_certificate=False, name="mosquitto"):
        """tls: the certificates of Run.make_certs for a TLS listener (the
        clients then use its CA; with require_certificate, the client
        certificate too)."""
        self.run = run
        self.name = name
        self.tls = tls
        self.require_certificate = require_certificate
        self.captured = []  # (topic, payload bytes)
        self._lock = threading.Lock()

    def client_args(self):
        """The TLS arguments of mosquitto_pub/mosquitto_sub."""
        if not self.tls:
            return []
        args = ["--cafile", self.tls["ca"]]
        if self.require_certificate:
            args += ["--cert", self.tls["client_cert"], "--key", self.tls["client_key"]]
        return args

    async def start(self):
        run = self.run
        self.port = free_port()
        conf = os.path.join(run.tmp, f"{self.name}.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
            if self.tls:
                f.write(f"cafile {self.tls['ca']}\ncertfile {self.tls['server_cert']}\n"
                        f"keyfile {self.tls['server_key']}\ntls_version tlsv1.2\n")
                if self.require_certificate:
                    f.write("require_certificate true\n")
        run.start(self.name, [run.args.mosquitto, "-c", conf])
        await run.wait_tcp(self.port, self.name)
        self.sub = run.start(f"{self.name}_sub", [run.args.mosquitto_sub, "-h", "127.0.0.1", "-p",
                                                  str(self.port), *self.client_args(), "-q", "1",
                                                  "-t", "gateway/#", "-F", "%t %x"],
                             stdout=subprocess.PIPE)
        threading.Thread(target=self._reader, daemon=True).start()
        # mosquitto_sub says nothing when subscribed: publish probes until one is seen.
        deadline = time.monotonic() + DEADLINE
        while not any(t == "gateway/peers-probe" for t, _ in self.captured):
            if time.monotonic() > deadline:
                raise AssertionError("mosquitto_sub does not receive gateway/peers-probe")
            await self.pub("gateway/peers-probe", b"probe")
            await asyncio.sleep(0.1)

    def _reader(self):
        for line in self.sub.stdout:
            line = line.decode().rstrip("\n")
            topic, _, hexpayload = line.partition(" ")
            with self._lock:
                self.captured.append((topic, bytes.fromhex(hexpayload)))

    async def pub(self, topic, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        r = await asyncio.to_thread(
            subprocess.run, [self.run.args.mosquitto_pub, "-h", "127.0.0.1", "-p", str(self.port),
                             *self.client_args(), "-q", "1", "-t", topic, "-s"],
            input=payload, capture_output=True, timeout=DEADLINE)
        if r.returncode != 0:
            raise AssertionError(f"mosquitto_pub -t {topic} failed: {r.stderr.decode()!r}")

    async def wait_captured(self, pred, what, start=0, timeout=DEADLINE):
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                items = list(self.captured)
            for i in range(start, len(items)):
                if pred(*items[i]):
                    return i, items[i]
            self.run.check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"mosquitto_sub: no {what} within {timeout} s; "
                                     f"captured {items!r}")
            await asyncio.sleep(0.02)

    def gateway_publishes(self):
        with self._lock:
            return [(t, p) for t, p in self.captured if t != "gateway/peers-probe"]


def check_mqtt_payload(topic, payload):
    """A payload the MQTT gateway published: if it is JSON, it must obey the
    byte rule; plain text (discover's `resources`, `values`) is left as is."""
    text = payload.decode("utf-8")
    try:
        json.loads(text)
    except ValueError:
        return None
    return check_byte_rule(text, f"aiot-mqtt-gateway publish on {topic}")


async def start_mqtt_gateway(run, mqtt, extra=(), name="aiot-mqtt-gateway"):
    run.start(name, [run.args.mqtt_gateway, "--mqtt-host", "127.0.0.1",
                     "--mqtt-port", str(mqtt.port), *extra] + run.gateway_common())


class MqttNode:
    """An MQTT node made of mosquitto_pub (its publishes) and the capture of
    mosquitto_sub (what the gateway asks): answers discover `resources` with
    its resource list, `values` with one publish per resource, and a
    `.../<res>/set` with the new value."""

    def __init__(self, mqtt, node_id, resources):
        self.mqtt = mqtt
        self.node_id = node_id
        self.resources = dict(resources)
        self.seen = 0
        self.task = None

    async def announce(self):
        """Starts the node, then publishes node/check again until the
        gateway asks it to discover (the gateway subscribes when it has
        connected, which may be after the first check)."""
        for _ in range(50):
            if self.task is None:
                await self.start()
            else:
                await self.mqtt.pub("node/check", json.dumps({"id": self.node_id}))
            try:
                await self.mqtt.wait_captured(
                    lambda t, pl: t == f"gateway/{self.node_id}/discover", "discover", 0, 0.3)
                return
            except AssertionError:
                pass
        raise AssertionError(f"the gateway never asked node {self.node_id} to discover")

    async def start(self):
        self.seen = len(self.mqtt.captured)
        await self.mqtt.pub("node/check", json.dumps({"id": self.node_id}))
        self.task = asyncio.create_task(self._loop())

    async def _loop(self):
        prefix = f"gateway/{self.node_id}/"
        while True:
            with self.mqtt._lock:
                items = self.mqtt.captured[self.seen:]
            self.seen += len(items)
            for topic, payload in items:
                if not topic.startswith(prefix):
                    continue
                rest = topic[len(prefix):]
                if rest == "discover" and payload == b"resources":
                    await self.mqtt.pub(f"node/{self.node_id}/resources",
                                        json.dumps(list(self.resources)))
                elif rest == "discover" and payload == b"values":
                    for name, value in self.resources.items():
                        await self.mqtt.pub(f"node/{self.node_id}/{name}",
                                            json.dumps({"value": value}))
                elif rest.endswith("/set"):
                    name = rest[:-len("/set")]
                    self.resources[name] = payload.decode()
                    await self.mqtt.pub(f"node/{self.node_id}/{name}",
                                        json.dumps({"value": payload.decode()}))
            await asyncio.sleep(0.02)

    def stop(self):
        if self.task:
            self.task.cancel()


async def poll(what, fn, timeout=DEADLINE):
    """Calls fn() (a coroutine function) until it returns a true value."""
    deadline = time.monotonic() + timeout
    while True:
        got = await fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        await asyncio.sleep(0.05)


def scrape(port):
    """The text of GET /metrics, checked by Prometheus's own promtool."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=DEADLINE) as r:
        assert r.status == 200, r.status
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
        text = r.read().decode()
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found (Debian package prometheus; scripts/install-deps --test)"
    check = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=30)
    assert check.returncode == 0, f"promtool: {check.stdout.decode()}{check.stderr.decode()}\n{text}"
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


async def coap_post(run, port, path, payload, timeout=DEADLINE, psk=None):
    """POST with libcoap's coap-client; returns the answer's payload text.
    Retried until the deadline while the gateway does not answer yet.
    psk: (identity, key) to post over coaps (DTLS)."""
    deadline = time.monotonic() + timeout
    while True:
        tls = ["-u", psk[0], "-k", psk[1]] if psk else []
        scheme = "coaps" if psk else "coap"
        r = await asyncio.to_thread(
            subprocess.run, [run.args.coap_client, "-m", "post", "-B", "2", *tls, "-e", payload,
                             f"{scheme}://127.0.0.1:{port}/{path}"],
            capture_output=True, timeout=10)
        out = r.stdout.decode("utf-8", "replace").strip()
        # coap-client logs (WARN, ERR...) on stdout too: the answer is the rest
        answer = [l for l in out.splitlines()
                  if not re.match(r"^[A-Z][a-z]{2} [ 0-9]{2} [0-9:.]+ [A-Z]+ ", l)]
        if r.returncode == 0 and answer:
            return "\n".join(answer)
        run.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"coap-client POST /{path} {payload!r}: status {r.returncode}, "
                                 f"stdout {out!r}, stderr {r.stderr.decode('utf-8', 'replace')!r}")
        await asyncio.sleep(0.1)

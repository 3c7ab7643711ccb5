#!/usr/bin/env python3
"""Three aiot-brokers as one through a real nats-server (Debian's), with
python3-websockets web clients on each and a CoAP node (coap-test-node)
behind an aiot-coap-gateway attached to broker A:
- the node appears to clients on B and C; a client on C toggles its LED and
  the value comes back to C and B;
- a client's `new` replay (dst = that client) reaches that client only,
  across brokers;
- kill -9 of broker A: a node whose gateway knew only A is `out` for the
  clients on B and C within the stated bound (peer timeout + one tick);
  the CoAP gateway (given A,B) moves to B and its node never leaves the
  pages, and C drives it through B;
- broker B frozen (SIGSTOP) for longer than the peer timeout: C's client
  gets `out`; thawed, B is asked for its nodes and C's client sees the node
  again;
- nats-server restarted on its port: the brokers reconnect, and after an
  LED write the client on C (through NATS) gets exactly the messages the
  client on B (the gateway's broker) gets; no client gets a second `new`
  for the node without an `out` between;
- SIGTERM ends a broker on NATS within 1 s."""
import socket
import time
import uuid

import peerlib as p

PEER_TIMEOUT = 1.5
HEARTBEAT = 0.25
# `out` for a dead broker's nodes: the timeout, plus one tick (a quarter
# heartbeat), plus scheduling slack.
OUT_BOUND = PEER_TIMEOUT + HEARTBEAT / 4 + 1.0


def new_or_out_sequence(client, uid):
    return [v["type"] for _, v in client.frames
            if v and v.get("uid") == uid and v.get("type") in ("new", "out")
            and v.get("dst", "all") == "all"]


async def scenario(run):
    nats_port = p.free_port()

    def start_nats(name):
        run.start(name, [run.args.nats_server, "-a", "127.0.0.1", "-p", str(nats_port)])
    start_nats("nats-server")
    await run.wait_tcp(nats_port, "nats-server")

    brokers = {}
    for b in "ABC":
        run.start(f"broker-{b}", [run.args.broker, "--bind", "127.0.0.1", "--broker-port", "0",
                                  "--key-file", run.key_file, "--debug", "--broker-id", f"b{b}",
                                  "--nats", f"nats://127.0.0.1:{nats_port}",
                                  "--nats-heartbeat", str(HEARTBEAT),
                                  "--nats-peer-timeout", str(PEER_TIMEOUT)])
        brokers[b] = await run.wait_bound_port(f"broker-{b}", "listening on")
    run.broker_port = brokers["A"]
    for b in "ABC":
        await run.step(f"broker {b} hears the two others", run.wait_log(
            f"broker-{b}", lambda t: "(2 other broker(s))" in t, "two peers"))

    web_b = await p.WebClient.connect(run, "web-B", port=brokers["B"])
    web_c = await p.WebClient.connect(run, "web-C", port=brokers["C"])
    await web_b.new()
    await web_c.new()

    node_port = p.free_port(socket.SOCK_DGRAM)
    run.start("aiot-coap-gateway", [run.args.coap_gateway, "--coap-bind", "127.0.0.1",
                                    "--coap-port", "0", "--node-port", str(node_port), "--debug", "--key-file", run.key_file,
                                    "--broker-host",
                                    f"127.0.0.1:{brokers['A']},127.0.0.1:{brokers['B']}"])
    coap_port = await run.wait_bound_port("aiot-coap-gateway", "listening on")
    uid = "nats-" + uuid.uuid4().hex[:6]
    run.start("coap-test-node", [run.args.coap_test_node, "--gateway-host", "127.0.0.1",
                                 "--gateway-port", str(coap_port), "--node-host", "127.0.0.1",
                                 "--node-port", str(node_port), "--uid", uid, "--led", "--temperature"])

    def led(value):
        return lambda v: (v.get("type") == "update" and v.get("uid") == uid
                          and v.get("endpoint") == "led" and v.get("data") == value)

    for web in (web_b, web_c):
        _, text, _ = await run.step(f"{web.name} sees the node of broker A", web.wait_for(
            lambda v: v.get("type") == "new" and v.get("uid") == uid, "new"))
        p.expect_bytes(text, p.gw_new(uid), f"new to {web.name}")
        await web.wait_for(led("0"), "led=0")

    start_b, start_c = len(web_b.frames), len(web_c.frames)
    await web_c.write(uid, "led", "1")
    _, text, _ = await run.step("LED written from C comes back to C", web_c.wait_for(
        led("1"), "led=1", start_c))
    p.expect_bytes(text, p.gw_update(uid, "led", "1"), "led to web-C")
    await run.step("and to B", web_b.wait_for(led("1"), "led=1", start_b))

    # A replay for one client (its `new`) reaches that client only.
    web_c2 = await p.WebClient.connect(run, "web-C2", port=brokers["C"])
    await web_c2.new()
    _, _, v = await run.step("a new client on C gets the node's replay", web_c2.wait_for(
        lambda v: v.get("type") == "new" and v.get("uid") == uid, "new"))
    me = v["dst"]
    assert me != "all", v
    await web_c2.wait_for(lambda v: v.get("uid") == uid and v.get("endpoint") == "led", "led")
    for web in (web_b, web_c):
        await web.barrier()
        leaked = [t for t, v in web.frames if v and v.get("dst") == me]
        assert not leaked, f"{web.name} got web-C2's replay: {leaked[:3]}"

    metrics = await p.asyncio.to_thread(p.scrape, brokers["C"])
    assert metrics["aiot_broker_nats_peers"] == 2, metrics
    assert metrics["aiot_broker_nats_connected"] == 1, metrics

    # kill -9 of broker A. A node whose gateway knows only A (a gateway
    # written here, on A alone) is out for B's and C's clients within the
    # bound; the CoAP gateway (A,B) moves to B before A's absence is
    # certain, so its node never leaves the pages.
    only_a = await p.PyGateway.connect(run, "gateway-on-A-only")
    uid2 = "only-a-" + uuid.uuid4().hex[:6]
    await only_a.announce(uid2, [("temperature", "20°C")])
    for web in (web_b, web_c):
        await web.wait_for(lambda v: v.get("type") == "new" and v.get("uid") == uid2, "new")
    start_b, start_c = len(web_b.frames), len(web_c.frames)
    t0 = time.monotonic()
    run.kill("broker-A")
    for web, start in ((web_b, start_b), (web_c, start_c)):
        await web.wait_for(lambda v: v.get("type") == "out" and v.get("uid") == uid2,
                           "out after broker A died", start)
        took = time.monotonic() - t0
        run.log(f"{web.name}: out {took:.2f} s after kill -9 of broker A")
        assert took < OUT_BOUND, f"{web.name}: out after {took:.2f} s (bound {OUT_BOUND} s)"
    await run.step("the CoAP gateway is on broker B", run.wait_log(
        "aiot-coap-gateway", lambda t: f"connected to broker ws://127.0.0.1:{brokers['B']}/gw" in t,
        "connection to B"))
    for web, start in ((web_b, start_b), (web_c, start_c)):
        await web.barrier()
        moved = [t for t, v in web.frames[start:] if v and v.get("uid") == uid
                 and v.get("type") == "out"]
        assert not moved, f"{web.name}: the moved gateway's node went out: {moved}"
    start_c = len(web_c.frames)
    await web_c.write(uid, "led", "0")
    await run.step("C drives the node through B", web_c.wait_for(led("0"), "led=0", start_c))

    # Broker B (the gateway's now) frozen past the timeout, then thawed.
    proc_b = next(proc for n, proc, _, _ in run.procs if n == "broker-B")
    start_c = len(web_c.frames)
    proc_b.send_signal(p.signal.SIGSTOP)
    await run.step("B frozen: its node is out on C", web_c.wait_for(
        lambda v: v.get("type") == "out" and v.get("uid") == uid, "out for frozen B", start_c))
    proc_b.send_signal(p.signal.SIGCONT)
    await run.step("B thawed: C asks it for its nodes", run.wait_log(
        "broker-C", lambda t: "broker bB is back" in t, "B back"))
    await run.step("C's client sees the node again", web_c.wait_for(
        lambda v: v.get("type") == "new" and v.get("uid") == uid, "new after thaw", start_c))
    await web_c.wait_for(led("0"), "led=0 replayed", start_c)

    # nats-server restarted on the same port: quicker than the peer
    # timeout, so no broker is given up and nothing is replayed.
    run.kill("nats-server", p.signal.SIGTERM)
    start_nats("nats-server-2")
    for b in "BC":
        await run.step(f"broker {b} reconnects to NATS", run.wait_log(
            f"broker-{b}", lambda t: "NATS: connected again" in t, "reconnection"))
    # Each broker hears the other again (after a heartbeat) before the write.
    await run.step("B and C hear each other again", p.poll("peers again", lambda: _peers(brokers)))
    start_b, start_c = len(web_b.frames), len(web_c.frames)
    await web_b.write(uid, "led", "1")
    for web, start in ((web_b, start_b), (web_c, start_c)):
        await run.step(f"LED write after the restart reaches {web.name}", web.wait_for(
            led("1"), "led=1", start))
    # B's client gets the node's messages from B's own gateway, C's through
    # NATS: the same messages, the same bytes, none twice, none missing.
    def since(web, start):
        return [t for t, v in web.frames[start:] if v and v.get("uid") == uid]
    # The node keeps sending values meanwhile, so the two lists are compared
    # once they agree at a barrier on both: a duplicate or a loss on C never
    # agrees, and the poll fails with both lists.
    async def same():
        await web_b.barrier()
        await web_c.barrier()
        return since(web_b, start_b) == since(web_c, start_c)
    try:
        await run.step("C gets what B got", p.poll("the same messages on B and C", same))
    except AssertionError as e:
        raise AssertionError(f"{e}\nB got {since(web_b, start_b)}\nC got {since(web_c, start_c)}")
    for web in (web_b, web_c):
        seq = new_or_out_sequence(web, uid)
        assert all(a != b for a, b in zip(seq, seq[1:])), f"{web.name}: new/out {seq}"
        web.assert_clean()
    for b in "BC":
        assert run.log_text(f"broker-{b}").count(" is back") <= 1, \
            f"broker {b}: a broker given up during the NATS restart"

    # A clean stop on NATS: SIGTERM ends broker C within 1 s. libnats is
    # shut down once C's connection is destroyed (before, its shutdown
    # waited for a connection still alive: 2 s, and LeakSanitizer once
    # found messages it had not freed).
    started = time.monotonic()
    run.kill("broker-C", p.signal.SIGTERM)
    took = time.monotonic() - started
    run.log(f"broker C: gone {took * 1000:.0f} ms after SIGTERM")
    assert took < 1.0, f"broker C took {took:.2f} s to stop"
    assert run.log_text("broker-C").rstrip().endswith("stopped"), run.log_text("broker-C")[-500:]


async def _peers(brokers):
    for b in "BC":
        m = await p.asyncio.to_thread(p.scrape, brokers[b])
        if m["aiot_broker_nats_peers"] != 1 or m["aiot_broker_nats_connected"] != 1:
            return False
    return True


if __name__ == "__main__":
    p.main("peers_nats", scenario)

#!/usr/bin/env python3
"""Web clients on Debian's python3-websockets (asyncio) against the real
aiot-broker, with a gateway written here in Python holding a real Fernet
token (python3-cryptography): client registration (late `new`, never
`new`, repeated `new`), fragmented text frames with pings between the
fragments, the byte rule on every frame (non-ASCII, escapes, numbers,
key order re-serialized as Python does), and batches (/ws?batch=MS) for
the clients that ask, one message per frame for the others."""
import asyncio

import peerlib as p

UID = "py-node-1"
IMU = [{"type": "acc", "values": [1.5, -2, 1e-05, 0.1, 1e+16, -0.0]}]


async def fragmented(ws, parts):
    """Sends `parts` as one fragmented text message, a ping between two
    fragments, each pong awaited before the next fragment."""
    pongs = []

    async def gen():
        for i, part in enumerate(parts):
            if i:
                waiter = await ws.ping(f"frag-{i}")
                await asyncio.wait_for(waiter, p.DEADLINE)
                pongs.append(i)
            yield part
    await ws.send(gen())
    return pongs


async def scenario(run):
    await run.start_broker()
    a = await p.WebClient.connect(run, "A (registered)")
    await a.new()
    never = await p.WebClient.connect(run, "N (never sends new)")
    late = await p.WebClient.connect(run, "L (late new)")
    gw = await p.PyGateway.connect(run, "python-gateway")

    # Broadcasts, sent compact and ASCII-escaped; the broker re-serializes.
    await gw.announce(UID, [("protocol", "Python"), ("temperature", "23.4°C"), ("imu", IMU)])
    await gw.send('{"type":"update","uid":"alive"}')
    await gw.send('{"type":"update","uid":"py-node-1","endpoint":"name",'
                  '"data":"a\\u0001\\"b\\\\c\\n\\/d\\ud83d\\ude00","dst":"all"}')
    await gw.send('{"dst":"all","data":"1","endpoint":"led","uid":"py-node-1","type":"update"}')
    await gw.send(gw.compact(p.gw_update(UID, "marker", "m1")))
    await run.step("registered client gets the broadcasts", a.wait_for(
        lambda v: v.get("endpoint") == "marker", "marker m1"))
    expected = [p.gw_new(UID), p.gw_update(UID, "protocol", "Python"),
                p.gw_update(UID, "temperature", "23.4°C"), p.gw_update(UID, "imu", IMU),
                p.gw_update(UID, "name", "a\u0001\"b\\c\n/d😀"),
                {"dst": "all", "data": "1", "endpoint": "led", "uid": UID, "type": "update"},
                p.gw_update(UID, "marker", "m1")]
    for (text, _), exp in zip(a.frames, expected):
        p.expect_bytes(text, exp, "broker -> web client A")
    assert len(a.frames) == len(expected), f"A: unexpected frames {a.frames[len(expected):]!r} (keep-alive forwarded?)"
    assert '"23.4°C"' in a.frames[2][0], "non-ASCII not sent as UTF-8"

    # L writes before its `new`: the gateway answers L only (dst); then A
    # writes (permuted keys) and gets its answer, which the broker handled after L's.
    await late.send('{"type":"update","data":{"uid":"py-node-1","endpoint":"led","payload":"0"}}')
    await never.send('{"type":"update","data":{"uid":"py-node-1","endpoint":"led","payload":"0"}}')
    await run.step("gateway gets both writes", wait_writes(gw, 2))
    start = len(a.frames)
    await a.send('{"data":{"payload":"1","uid":"py-node-1","endpoint":"led"},"type":"update"}')
    _, _, v = await run.step("A gets the dst answer to its write", a.wait_for(
        lambda v: v.get("endpoint") == "led" and v.get("dst") not in (None, "all"), "dst answer", start))
    a_id = v["dst"]
    fwd = [t for t, v in gw.frames if isinstance(v, dict) and v.get("src") == a_id]
    p.expect_bytes(fwd[-1], {"data": {"payload": "1", "uid": UID, "endpoint": "led"}, "type": "update",
                             "src": a_id}, "broker -> gateway (A's write, keys in arrival order)")
    late_id, never_id = gw.writes[0][0], gw.writes[1][0]
    for t, v in gw.frames:
        if v.get("src") == late_id:
            p.expect_bytes(t, {"type": "update", "data": {"uid": UID, "endpoint": "led", "payload": "0"},
                               "src": late_id}, "broker -> gateway (L's write)")
            break

    # Nothing reached N and L so far: no broadcast, no dst answer.
    await never.barrier()
    await late.barrier()
    assert not never.frames, f"N received {never.frames!r} without `new`"
    assert not late.frames, f"L received {late.frames!r} before its `new`"

    # L sends `new` twice, then a write: the gateway sees one `new` from L.
    await late.new()
    await late.new()
    await late.send('{"type":"update","data":{"uid":"py-node-1","endpoint":"led","payload":"L2"}}')
    _, _, v = await run.step("L gets the cache, then the answer to its write", late.wait_for(
        lambda v: v.get("data") == "L2", "answer L2"))
    fwd_new = [t for t, v in gw.frames if v.get("src") == late_id and v.get("type") == "new"]
    p.expect_bytes(fwd_new[0], {"type": "new", "data": "client", "src": late_id}, "broker -> gateway (L's new)")
    assert gw.news.get(late_id) == 1, f"L's `new` forwarded {gw.news.get(late_id)} times (expected once)"
    cache = [p.gw_new(UID, late_id), p.gw_update(UID, "protocol", "Python", late_id),
             p.gw_update(UID, "temperature", "23.4°C", late_id), p.gw_update(UID, "imu", IMU, late_id),
             p.gw_update(UID, "led", "L2", late_id)]
    assert len(late.frames) == len(cache), f"L received {[t for t, _ in late.frames]!r}"
    for (text, _), exp in zip(late.frames, cache):
        p.expect_bytes(text, exp, "broker -> web client L")

    # Fragmented text frames with pings in between.
    frag = await p.WebClient.connect(run, "F (fragmented)")
    pongs = await run.step("fragmented `new` with pings between fragments",
                           fragmented(frag.ws, ['{"type": "n', 'ew", "da', 'ta": "client"}']))
    assert pongs == [1, 2], f"pongs received between fragments: {pongs}"
    await frag.wait_for(lambda v: v.get("type") == "new", "cache after fragmented new")
    pongs = await fragmented(frag.ws, ['{"type": "update", "data": {"uid": "py-node-1", "endpoint": '
                                       '"name", "payload": "ä°', '€😀"}}'])
    assert pongs == [1], f"pongs received between fragments: {pongs}"
    _, text, v = await run.step("fragmented write processed", frag.wait_for(
        lambda v: v.get("data") == "ä°€😀", "answer to the fragmented write"))
    frag_id = v["dst"]
    fwd = [t for t, v in gw.frames if isinstance(v, dict) and v.get("src") == frag_id]
    p.expect_bytes(fwd[0], {"type": "new", "data": "client", "src": frag_id}, "broker -> gateway (F's new)")
    p.expect_bytes(fwd[-1], {"type": "update", "data": {"uid": UID, "endpoint": "name", "payload": "ä°€😀"},
                             "src": frag_id}, "broker -> gateway (F's fragmented write)")

    # Batches: B asks for them, A does not. A burst the gateway sends
    # without waiting reaches B in a few frames, one message per line, each
    # line the bytes A gets in a frame of its own, in the same order.
    b = await p.WebClient.connect(run, "B (batches of 50 ms)", batch_ms=50)
    await b.new()
    await run.step("B gets the cache", b.wait_for(lambda v: v.get("endpoint") == "imu", "B's cache"))
    a_start, b_start, b_texts = len(a.frames), len(b.frames), len(b.texts)
    burst = 400
    for i in range(burst):
        await gw.send(gw.compact(p.gw_update(UID, "count", str(i))))
    await run.step("A and B get the burst", asyncio.gather(
        a.wait_for(lambda v: v.get("data") == str(burst - 1), "A: end of burst", a_start),
        b.wait_for(lambda v: v.get("data") == str(burst - 1), "B: end of burst", b_start)))
    a_burst = [t for t, _ in a.frames[a_start:]]
    b_burst = [t for t, _ in b.frames[b_start:]]
    assert len(a_burst) == burst, f"A: {len(a_burst)} messages for {burst}"
    assert b_burst == a_burst, "B's lines are not A's frames, in order"
    b_frames = len(b.texts) - b_texts
    run.log(f"burst of {burst}: A got {len(a_burst)} frames, B {b_frames}")
    assert b_frames <= burst // 4, f"B: {b_frames} frames for a burst of {burst} (not batched)"
    assert all("\n" not in t for t in a.texts), "A (no batch asked) got a frame of several lines"

    # A last broadcast, then N still has nothing.
    start = len(a.frames)
    await gw.send(gw.compact(p.gw_update(UID, "marker", "m2")))
    await a.wait_for(lambda v: v.get("data") == "m2", "marker m2", start)
    await never.barrier()
    assert not never.frames, f"N received {never.frames!r} without `new`"
    for c in (a, b, never, late, frag, gw):
        c.assert_clean()


async def wait_writes(gw, n):
    while len(gw.writes) < n:
        gw.assert_clean()
        await asyncio.sleep(0.02)


if __name__ == "__main__":
    p.main("peers_web_clients", scenario)

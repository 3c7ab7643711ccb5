#!/usr/bin/env python3
"""The gateways' broker uplink (their websocket client, on the broker's own
codec since its writes are gathered) against a websocket server nobody here
wrote: Debian's python3-websockets plays the broker for a real
aiot-ws-gateway with a python3-websocket node. Checked: the opening
handshake (path /gw, the token subprotocol, User-Agent); frames that
websockets' decoder accepts (it refuses unmasked client frames and closes
with 1002); a burst of answers, written together, arriving whole and in
order; a ping answered with its payload; a fragmented request understood;
a message over the gateway's limit refused with 1009; the server's close
answered with its code; and a reconnection after each end."""
import asyncio
import json

import websockets

import peerlib as p

REQUESTS = 300  # `new` requests sent at once: each answered with the node's messages


async def next_connection(conns):
    return await asyncio.wait_for(conns.get(), p.DEADLINE)


async def receive_json(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), p.DEADLINE))


async def scenario(run):
    if not run.args.ws_gateway:
        print("SKIP: needs --ws-gateway")
        return
    conns = asyncio.Queue()

    async def handler(ws, path):
        await conns.put((ws, path))
        await ws.wait_closed()

    server = await websockets.serve(handler, "127.0.0.1", 0, ping_interval=None,
                                    max_size=1 << 20)
    port = server.sockets[0].getsockname()[1]
    try:
        run.start("aiot-ws-gateway", [run.args.ws_gateway, "--gateway-bind", "127.0.0.1",
                                      "--gateway-port", "0", "--broker-host",
                                      f"127.0.0.1:{port}", "--key-file", run.key_file,
                                      "--debug"])
        gw_port = await run.wait_bound_port("aiot-ws-gateway", "listening for websocket nodes")
        ws, path = await run.step("the gateway connects", next_connection(conns))
        assert path == "/gw", path
        protocol = ws.request_headers.get("Sec-WebSocket-Protocol", "")
        assert protocol.startswith("token, ") and len(protocol) > 50, protocol
        assert ws.request_headers.get("User-Agent", "").startswith("aiot"), ws.request_headers

        node = await p.start_ws_node(run, gw_port, {"name": "uplink-node", "led": "0"})
        try:
            first = await receive_json(ws)
            assert first["type"] == "new", first
            uid = first["uid"]
            per_node = [first]  # new, then its resources (protocol, name, led)
            while not {"name", "led"} <= {m.get("endpoint") for m in per_node}:
                per_node.append(await receive_json(ws))
            n = len(per_node)

            # A burst: every request is answered by the node's messages for
            # that client; they come back whole, in order.
            for i in range(REQUESTS):
                await ws.send(json.dumps({"type": "new", "src": f"c{i}"}))
            got = []
            while len(got) < REQUESTS * n:
                got.append(await receive_json(ws))
            dsts = [m["dst"] for m in got]
            expected = [f"c{i}" for i in range(REQUESTS) for _ in range(n)]
            assert dsts == expected, f"out of order: {dsts[:12]}..."
            assert all(m["uid"] == uid for m in got), got[:3]
            run.log(f"{len(got)} answers received in order")

            pong = await ws.ping(b"uplink?")
            await run.step("a ping is answered with its payload",
                           asyncio.wait_for(pong, p.DEADLINE))

            await ws.send(iter(['{"type":"new",', '"src":"frag"}']))
            m = await run.step("a fragmented request is understood", receive_json(ws))
            assert m["type"] == "new" and m["dst"] == "frag", m

            try:
                await ws.send("x" * ((1 << 20) + 1))
            except websockets.ConnectionClosed:
                pass  # refused as soon as the frame's header announced its size
            await run.step("a message over the limit is refused with 1009",
                           asyncio.wait_for(ws.wait_closed(), p.DEADLINE))
            assert ws.close_code == 1009, ws.close_code
            await run.wait_log_line("aiot-ws-gateway", "protocol error from the broker")

            ws, _ = await run.step("the gateway comes back", next_connection(conns))
            m = await receive_json(ws)  # its node announced again
            assert m["type"] == "new" and m["uid"] == uid, m
            await ws.close(1001, "bye")
            assert ws.close_code == 1001, ws.close_code  # echoed
            line = await run.wait_log_line("aiot-ws-gateway", "closed by the broker (code 1001")
            assert "bye" in line, line
            await run.step("and again after the server's close", next_connection(conns))
            node.check()
        finally:
            node.stop()
    finally:
        server.close()
        await server.wait_closed()


if __name__ == "__main__":
    p.main("peers_uplink", scenario)

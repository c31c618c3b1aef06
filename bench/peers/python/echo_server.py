"""Python peers of the TCP echo benchmark (bench/echo_run).

usage: /usr/bin/python3 echo_server.py MODE --port P
  uvloop-protocol   uvloop's loop, an asyncio.Protocol: data_received writes
                    the data back (reading pauses while the transport's
                    write buffer is over its high-water mark)
  uvloop-streams    uvloop's loop, asyncio streams: read, write, drain
  asyncio-streams   the standard loop, the same streams handler
Listens on 127.0.0.1:P (backlog 4096, like the C servers' SOMAXCONN) until
killed.
"""
import asyncio
import resource
import sys


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


async def echo_stream(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(mode, port):
    if mode == "uvloop-protocol":
        loop = asyncio.get_running_loop()
        server = await loop.create_server(EchoProtocol, "127.0.0.1", port,
                                          backlog=4096)
    else:
        server = await asyncio.start_server(echo_stream, "127.0.0.1", port,
                                            backlog=4096)
    async with server:
        await server.serve_forever()


def main():
    modes = ("uvloop-protocol", "uvloop-streams", "asyncio-streams")
    if len(sys.argv) != 4 or sys.argv[1] not in modes \
            or sys.argv[2] != "--port":
        sys.exit(__doc__)
    mode, port = sys.argv[1], int(sys.argv[3])
    # Room for 10,000 idle connections: the soft limit up to the hard one.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if mode.startswith("uvloop"):
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(serve(mode, port))


if __name__ == "__main__":
    main()

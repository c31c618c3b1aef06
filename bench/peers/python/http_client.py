#!/usr/bin/python3
"""The aiohttp peer of bench/http_run (client throughput).

  http_client.py asyncio|uvloop --url URL [--conc N] [--warmup SEC]
                 [--duration SEC]

What bench/http/http_client.c does with cio: N asyncio tasks GET the URL
over one aiohttp.ClientSession (keep-alive, a connector limit of N), each
reading the whole body and checking the status, again and again. The main
task takes the count of finished requests and the process's CPU time
(getrusage: user + system, every thread) after the warm-up and after the
measured window, then stops the tasks. Prints one JSON line:
  {"requests":N,"seconds":S,"cpu_s":C,"errors":E,"bytes":B}
"""
import argparse
import asyncio
import json
import resource
import sys
import time

import aiohttp


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class Bench:
    def __init__(self, args):
        self.url = args.url
        self.args = args
        self.stop = False
        self.done = 0
        self.errors = 0
        self.bytes = 0
        self.first_error = None

    def error(self, what):
        if self.errors == 0:
            self.first_error = what
        self.errors += 1

    async def worker(self, session):
        while not self.stop:
            try:
                async with session.get(self.url) as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        self.error("status %d" % resp.status)
                    self.bytes += len(body)
            except (aiohttp.ClientError, OSError) as e:
                self.error(repr(e))
            self.done += 1

    async def main(self):
        a = self.args
        connector = aiohttp.TCPConnector(limit=a.conc, limit_per_host=a.conc)
        async with aiohttp.ClientSession(connector=connector) as session:
            tasks = [asyncio.create_task(self.worker(session))
                     for _ in range(a.conc)]
            await asyncio.sleep(a.warmup)
            done0, err0, bytes0 = self.done, self.errors, self.bytes
            cpu0, t0 = cpu_seconds(), time.monotonic()
            await asyncio.sleep(a.duration)
            done1, err1, bytes1 = self.done, self.errors, self.bytes
            cpu1, t1 = cpu_seconds(), time.monotonic()
            self.stop = True
            await asyncio.gather(*tasks)
        print(json.dumps({"requests": done1 - done0, "seconds": t1 - t0,
                          "cpu_s": cpu1 - cpu0, "errors": err1 - err0,
                          "bytes": bytes1 - bytes0}), flush=True)
        if self.errors:
            print("http_client.py: %d failed requests, the first: %s"
                  % (self.errors, self.first_error), file=sys.stderr)
            return 1
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["asyncio", "uvloop"])
    ap.add_argument("--url", required=True)
    ap.add_argument("--conc", type=int, default=50)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=3.0)
    args = ap.parse_args()
    if args.mode == "uvloop":
        import uvloop
        uvloop.install()
    return asyncio.run(Bench(args).main())


if __name__ == "__main__":
    sys.exit(main())

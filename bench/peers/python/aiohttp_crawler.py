#!/usr/bin/python3
"""The aiohttp peer of bench/crawl_run: the brief's kind of asyncio crawler.

  aiohttp_crawler.py --urls-from FILE --output DIR [--concurrency 100]
                     [--timeout 30] [--retries 0] [--uvloop]
                     [--writes aiofiles|thread]

An asyncio.Semaphore bounds the requests in flight; one
aiohttp.ClientSession (keep-alive, a connector as wide as the semaphore)
fetches every URL of FILE (one a line) in its own task; each page that
comes back 200 is saved under DIR as it arrives, with its source URL in a
first comment line, through aiofiles as the brief does (Debian:
python3-aiofiles; each open, write and close is a trip to the default
thread pool), or with --writes thread (or without aiofiles) in one
asyncio.to_thread call per page, which costs less. Failures are retried
with exponential backoff up to --retries times. At the end one JSON object
of statistics goes to stdout, with the keys cio-crawl --json prints
(requests, succeeded, failed, bytes, duration_s, requests_per_s, kb_per_s,
pages_saved) and the crawl's own CPU time (cpu_s: getrusage over the
crawl, start-up excluded).
"""
import argparse
import asyncio
import json
import os
import resource
import sys
import time

import aiohttp

try:
    import aiofiles
except ImportError:             # plain writes in a worker thread instead
    aiofiles = None


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def write_page(path, header, body):
    with open(path, "wb") as f:
        f.write(header)
        f.write(body)


class Crawler:
    def __init__(self, concurrency, timeout, retries, output, writes):
        self.semaphore = asyncio.Semaphore(concurrency)
        self.concurrency = concurrency
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self.output = output
        self.aiofiles = aiofiles if writes == "aiofiles" else None
        self.stats = {"requests": 0, "succeeded": 0, "failed": 0,
                      "bytes": 0, "pages_saved": 0}
        self.failures = {}      # reason -> count

    async def save(self, index, url, body):
        path = os.path.join(self.output, "page_%06d.html" % index)
        header = ("<!-- source: %s -->\n" % url).encode()
        if self.aiofiles:
            async with self.aiofiles.open(path, "wb") as f:
                await f.write(header)
                await f.write(body)
        else:
            await asyncio.to_thread(write_page, path, header, body)
        self.stats["pages_saved"] += 1

    async def fetch_once(self, session, url):
        """The body of a 200 response, or the reason it failed."""
        async with self.semaphore:
            self.stats["requests"] += 1
            try:
                async with session.get(url, timeout=self.timeout) as resp:
                    body = await resp.read()
                    if resp.status == 200:
                        return body, None
                    return None, "http_%d" % resp.status
            except asyncio.TimeoutError:
                return None, "timeout"
            except aiohttp.ClientError as e:
                return None, type(e).__name__

    async def fetch(self, session, index, url):
        for attempt in range(self.retries + 1):
            body, reason = await self.fetch_once(session, url)
            if body is not None:
                self.stats["succeeded"] += 1
                self.stats["bytes"] += len(body)
                await self.save(index, url, body)
                return
            if attempt < self.retries:
                await asyncio.sleep(0.5 * 2 ** attempt)
        self.stats["failed"] += 1
        self.failures[reason] = self.failures.get(reason, 0) + 1

    async def crawl(self, urls):
        os.makedirs(self.output, exist_ok=True)
        cpu0, t0 = cpu_seconds(), time.monotonic()
        connector = aiohttp.TCPConnector(limit=self.concurrency,
                                         limit_per_host=self.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(self.fetch(session, i, url)
                                   for i, url in enumerate(urls)))
        duration = time.monotonic() - t0
        s = self.stats
        s["duration_s"] = duration
        s["requests_per_s"] = s["requests"] / duration
        s["kb_per_s"] = s["bytes"] / 1024 / duration
        s["failures"] = self.failures
        s["cpu_s"] = cpu_seconds() - cpu0
        return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--urls-from", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--retries", type=int, default=0)
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--writes", choices=["aiofiles", "thread"],
                    default="aiofiles")
    args = ap.parse_args()
    with open(args.urls_from) as f:
        urls = [line.strip() for line in f if line.strip()]
    if args.uvloop:
        import uvloop
        uvloop.install()
    crawler = Crawler(args.concurrency, args.timeout, args.retries,
                      args.output, args.writes)
    stats = asyncio.run(crawler.crawl(urls))
    print(json.dumps(stats), flush=True)
    return 0 if stats["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

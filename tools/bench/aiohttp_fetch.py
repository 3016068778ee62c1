#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The aiohttp peer of the benchmarks: URLs from a file, C at a time (a Semaphore and a
# connector limit), bodies read and dropped, optionally at most R starts per second (a
# hand-written leaky bucket in the manner of aiolimiter, which Debian does not package).
# Prints "done=N failed=N". Usage: aiohttp_fetch.py C URLFILE [RATE_PER_SEC]
import asyncio
import sys
import time

import aiohttp


async def main():
    cap, path = int(sys.argv[1]), sys.argv[2]
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    with open(path) as f:
        urls = [line.strip() for line in f if line.strip()]
    sem = asyncio.Semaphore(cap)
    counts = {"done": 0, "failed": 0}
    next_start = [time.monotonic()]

    async def pace():
        if rate <= 0:
            return
        now = time.monotonic()
        slot = max(now, next_start[0])
        next_start[0] = slot + 1.0 / rate
        if slot > now:
            await asyncio.sleep(slot - now)

    async def one(session, url):
        async with sem:
            await pace()
            try:
                async with session.get(url) as r:
                    await r.read()
                    counts["done" if r.status == 200 else "failed"] += 1
            except Exception:
                counts["failed"] += 1

    conn = aiohttp.TCPConnector(limit=cap)
    async with aiohttp.ClientSession(connector=conn) as session:
        await asyncio.gather(*(one(session, u) for u in urls))
    print("done=%d failed=%d" % (counts["done"], counts["failed"]))


asyncio.run(main())

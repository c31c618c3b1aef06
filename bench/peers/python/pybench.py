"""Python peer of cio's benchmarks: asyncio, or uvloop's loop.

usage: /usr/bin/python3 pybench.py asyncio|uvloop BENCH [N...]
  switch [YIELDS]             two tasks ping-ponging await asyncio.sleep(0)
  spawn [N]                   await loop.create_task(trivial()), N times
  memory [N]                  N tasks awaiting one asyncio.Event
  timers [PENDING] [OPS] [FIRERS] [ROUNDS]
                              call_later + cancel with PENDING sleeping tasks;
                              FIRERS sleeping tasks woken together, per round
Each figure is printed as a JSON line, like the C benchmarks.
"""
import asyncio
import gc
import json
import os
import random
import statistics
import sys
import time


def emit(bench, value, unit):
    print(json.dumps({"bench": bench, "value": float("%.4g" % value),
                      "unit": unit}), flush=True)


def arg(i, default):
    return int(sys.argv[i]) if len(sys.argv) > i else default


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE")


def page_table_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmPTE:"):
                return int(line.split()[1]) * 1024
    return 0


async def bench_switch():
    n = arg(3, 200_000)

    async def ping():
        for _ in range(n):
            await asyncio.sleep(0)

    t0 = time.perf_counter_ns()
    await asyncio.gather(ping(), ping())
    emit("switch", (time.perf_counter_ns() - t0) / (2 * n), "ns/switch")


async def trivial():
    return 0


async def bench_spawn():
    n = arg(3, 200_000)
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        await loop.create_task(trivial())
    emit("spawn", (time.perf_counter_ns() - t0) / n, "ns/spawn+join")


async def bench_memory():
    n = arg(3, 1_000_000)
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    gc.collect()
    gc.disable()    # a million live objects: collections would only add time
    rss0, pt0 = rss_bytes(), page_table_bytes()
    t0 = time.perf_counter()
    tasks = [loop.create_task(event.wait()) for _ in range(n)]
    await asyncio.sleep(0)          # every task runs once and blocks
    dt = time.perf_counter() - t0
    rss1, pt1 = rss_bytes(), page_table_bytes()
    blocked = sum(1 for t in tasks if not t.done())
    if blocked != n:
        sys.exit("only %d of %d tasks blocked" % (blocked, n))
    emit("memory", (rss1 - rss0) / 1024 / n, "KiB/task")
    emit("memory_pagetables", (pt1 - pt0) / 1024 / n, "KiB/task")
    print("%s: %d tasks awaiting an Event in %.2f s (the list of task "
          "handles is included: 8 bytes each)" % (sys.argv[1], n, dt))
    event.set()
    await asyncio.gather(*tasks)


async def bench_timers():
    pending = arg(3, 1_000_000)
    ops = arg(4, 1_000_000)
    firers = arg(5, 100_000)
    rounds = arg(6, 3)              # Python is slow to set up: 3, not 5
    loop = asyncio.get_running_loop()
    rng = random.Random(42)
    gc.disable()    # a million live objects: collections would only add time

    sleepers = [loop.create_task(asyncio.sleep(rng.uniform(3600, 7200)))
                for _ in range(pending)]
    await asyncio.sleep(0)          # all of them sleeping

    def never():
        raise AssertionError("timer fired")

    chunk = ops // rounds
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(chunk):
            loop.call_later(rng.uniform(3600, 7200), never).cancel()
        samples.append((time.perf_counter_ns() - t0) / chunk)
    emit("timer_insert_cancel", statistics.median(samples), "ns/timer")

    # Firing: FIRERS tasks sleep until a common instant plus up to 1 ms; the
    # loop is blocked until all of them are due, then their wake-ups are
    # timed. Between rounds they wait on a gate. The instant leaves a margin
    # for every firer to arm its sleep first (1.5 times the last round's
    # arming); a round whose arming overran it is left out.
    state = {"fired": 0, "base": 0.0, "gate": asyncio.Event(), "done": None}

    async def firer(jitter):
        while True:
            await asyncio.sleep(state["base"] + jitter - loop.time())
            state["fired"] += 1
            if state["fired"] == firers:
                state["done"].set_result(None)
            await state["gate"].wait()

    jitters = [rng.uniform(0, 0.001) for _ in range(firers)]
    samples = []
    spoilt = 0
    margin = 1.5                    # the first round also makes the tasks
    for r in range(rounds):
        state["fired"] = 0
        state["done"] = loop.create_future()
        gate, state["gate"] = state["gate"], asyncio.Event()
        start = time.monotonic()
        state["base"] = loop.time() + margin
        if r == 0:
            tasks = [loop.create_task(firer(j)) for j in jitters]
        else:
            gate.set()
        await asyncio.sleep(0)      # every firer runs and arms its sleep
        armed = time.monotonic()
        margin = max(0.05, 1.5 * (armed - start))
        # Block the loop until all are due (uvloop's clock is coarse: 10 ms).
        time.sleep(max(0.0, state["base"] + 0.01 - armed))
        t0 = time.perf_counter_ns()
        await state["done"]
        if armed < state["base"]:
            samples.append((time.perf_counter_ns() - t0) / firers)
        else:
            spoilt += 1
    if samples:
        emit("timer_fire", statistics.median(samples), "ns/timer")
    if spoilt:
        print("%s: %d of %d firing rounds left out (arming overran the "
              "margin)" % (sys.argv[1], spoilt, rounds))
    # Cancelling 1.1 million tasks takes asyncio longer than the whole
    # benchmark and measures nothing: leave at once.
    os._exit(0)


BENCHES = {"switch": bench_switch, "spawn": bench_spawn,
           "memory": bench_memory, "timers": bench_timers}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("asyncio", "uvloop") \
            or sys.argv[2] not in BENCHES:
        sys.exit(__doc__)
    if sys.argv[1] == "uvloop":
        import uvloop
        runner = uvloop.new_event_loop
    else:
        runner = asyncio.new_event_loop
    loop = runner()
    try:
        loop.run_until_complete(BENCHES[sys.argv[2]]())
    finally:
        loop.close()


if __name__ == "__main__":
    main()

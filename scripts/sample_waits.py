#!/usr/bin/env python3
"""Samples where a running Guanai server's threads wait, to find what stalls its requests.

Usage: scripts/sample_waits.py SECONDS [OUT.csv]

Finds the newest `guanai ... serve --listen` process (waiting for one to start), then every
5 ms reads each of its threads' kernel wait channel (`/proc/PID/task/TID/wchan`) and state,
and writes the threads that are not idle (or are in uninterruptible sleep, state D) as
`unix time, thread id, thread name, state, wait channel` lines. Run it beside a bench step
(`guanai bench --only claims` with `GUANAI_BENCH_TRACE`) and compare the times of the D
states with the trace's slow requests. Prints a count per thread name, state and channel.
"""

import collections
import os
import subprocess
import sys
import time

IDLE = {"0", "futex_do_wait", "futex_wait_queue", "futex_wait_queue_me", "ep_poll", "do_epoll_wait",
        "hrtimer_nanosleep"}


def server_pid():
    found = subprocess.run(["pgrep", "-n", "-f", "serve --listen"], capture_output=True, text=True)
    return found.stdout.strip() or None


def thread(pid, tid):
    base = f"/proc/{pid}/task/{tid}"
    with open(f"{base}/wchan") as f:
        wchan = f.read().strip()
    with open(f"{base}/stat") as f:
        state = f.read().rsplit(") ", 1)[1].split()[0]
    with open(f"{base}/comm") as f:
        name = f.read().strip()
    return name, state, wchan


def main():
    seconds = float(sys.argv[1])
    out_path = sys.argv[2] if len(sys.argv) > 2 else "waits.csv"
    counts = collections.Counter()
    deadline = time.time() + seconds
    pid = None
    with open(out_path, "w") as out:
        while time.time() < deadline:
            if pid is None:
                pid = server_pid()
                if pid is None:
                    time.sleep(0.05)
                    continue
            now = time.time()
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except FileNotFoundError:
                pid = None
                continue
            for tid in tids:
                try:
                    name, state, wchan = thread(pid, tid)
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    continue
                if wchan not in IDLE or state == "D":
                    out.write(f"{now:.3f},{tid},{name},{state},{wchan}\n")
                    counts[(name, state, wchan)] += 1
            time.sleep(0.005)
    for (name, state, wchan), n in counts.most_common(20):
        print(f"{n:7} {name} {state} {wchan}")


if __name__ == "__main__":
    main()

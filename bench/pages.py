"""
Public pages through gunicorn: requests per second, latency and server CPU per request under load
(wrk), and the server CPU of the first request after a publish.

Server CPU per request under load = (utime+stime+cutime+cstime of the gunicorn master and all its
workers after the run, minus before) / requests wrk completed, in ms. Only the load run is counted
(not the warm-up before it); wrk's own CPU is not.
"""

import json
import secrets
import statistics
import subprocess
import time

from bench.servers import BASE_DIR, CLOCK_TICKS, PYTHON, get, runtime_ns, stat_ticks, wrk


class Publisher:
    """`python -m bench.probe publisher`: a separate process, with the servers' environment, that publishes pages."""

    def __init__(self, env):
        self.env = env
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [PYTHON, "-m", "bench.probe", "publisher"],
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._answer()  # ready
        return self

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the publisher process stopped")
        return json.loads(line)

    def send(self, path, title=None):
        self.process.stdin.write(json.dumps({"path": path, "title": title}) + "\n")
        self.process.stdin.flush()

    def publish(self, path, title=None):
        """Publish and wait: the publisher's monotonic clock before and after `publish()`."""
        self.send(path, title)
        return self._answer()

    def answer(self):
        return self._answer()

    def __exit__(self, *exc_info):
        if self.process:
            self.process.stdin.close()
            self.process.wait(timeout=30)


def edited_title(original):
    """A title that is certainly new, and easy to find in the HTML."""
    token = f"bench{secrets.token_hex(4)}"
    return f"{original} {token}", token


def load(server, path, *, threads, connections, duration, warmup):
    url = f"http://127.0.0.1:{server.port}{path}"
    wrk(url, threads=threads, connections=connections, duration=warmup)
    before = server.cpu_ticks()
    result = wrk(url, threads=threads, connections=connections, duration=duration)
    after = server.cpu_ticks()
    cpu_ms = (after - before) * 1000 / CLOCK_TICKS
    result["server_cpu_ms_per_request"] = cpu_ms / result["requests"] if result["requests"] else None
    result["server_cpu_utilisation"] = cpu_ms / 1000 / result["seconds"] if result["seconds"] else None
    return result


def _one_request_cpu(worker, port, path):
    before_ns, before_ticks = runtime_ns(worker), stat_ticks(worker)
    status, _, body = get(port, path)
    time.sleep(0.02)  # the sync worker closes the connection and runs request_finished after sending
    return {
        "status": status,
        "cpu_ms": (runtime_ns(worker) - before_ns) / 1e6,
        "tick_ms": (stat_ticks(worker) - before_ticks) * 1000 / CLOCK_TICKS,
        "body": body,
    }


def cpu_after_publish(server, publisher, path, original_title, *, repeats):
    """
    With one gunicorn worker: the worker's CPU for the first request after a publish of the page at
    `path` (a new title each time), and for the request after that (warm). Median of `repeats`.
    """
    (worker,) = server.worker_pids()
    for _ in range(3):
        get(server.port, path)
    cold, warm, stale, statuses = [], [], 0, set()
    for _ in range(repeats):
        title, token = edited_title(original_title)
        publisher.publish(path, title)
        first = _one_request_cpu(worker, server.port, path)
        second = _one_request_cpu(worker, server.port, path)
        stale += token.encode() not in first["body"]
        statuses.update({first["status"], second["status"]})
        cold.append(first)
        warm.append(second)
    publisher.publish(path, original_title)
    get(server.port, path)
    return {
        "path": path,
        "repeats": repeats,
        "statuses": sorted(statuses),
        "cold_cpu_ms_median": statistics.median(row["cpu_ms"] for row in cold),
        "cold_cpu_ms_min": min(row["cpu_ms"] for row in cold),
        "cold_cpu_ms_max": max(row["cpu_ms"] for row in cold),
        "cold_tick_ms_mean": statistics.fmean(row["tick_ms"] for row in cold),
        "warm_cpu_ms_median": statistics.median(row["cpu_ms"] for row in warm),
        "stale_responses": stale,
    }

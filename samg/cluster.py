"""Dask: the scheduler a stage runs its tasks on, and what every task checks on its worker.

`--scheduler` is `threads` or `processes` (a local cluster of `workers` one-thread workers)
or `tcp://HOST:PORT`, the address of a running `dask scheduler` (docs/cluster.md). A worker
that dies takes its tasks with it; the scheduler gives them to another worker (up to
`distributed.scheduler.allowed-failures` times, then the stage fails naming the task).
"""

import contextlib
import threading
from collections.abc import Iterable, Iterator

from samg.errors import SamgError

LOCAL_SCHEDULERS = ("threads", "processes")


def check_scheduler(scheduler: str) -> str:
    if scheduler not in LOCAL_SCHEDULERS and not scheduler.startswith("tcp://"):
        raise SamgError(f"unknown scheduler {scheduler!r}: use threads, processes or tcp://HOST:PORT")
    return scheduler


@contextlib.contextmanager
def dask_client(scheduler: str, workers: int = 1) -> Iterator:
    """A `distributed.Client` on `scheduler`: local workers for threads/processes, else the
    running scheduler at the address."""
    from distributed import Client, LocalCluster

    check_scheduler(scheduler)
    if scheduler in LOCAL_SCHEDULERS:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=scheduler == "processes",
            dashboard_address=None,
            silence_logs=50,
        )
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as error:
        raise SamgError(f"cannot reach the dask scheduler at {scheduler} ({error}): start it (docs/cluster.md)") from None
    with client:
        yield client


_per_thread = threading.local()


def thread_cached(key: tuple, build):
    """`build()` once per worker thread and key: simulators and GL contexts are not shared
    between threads, and a one-thread worker (processes, tcp) builds each once."""
    cache = getattr(_per_thread, "cache", None)
    if cache is None:
        cache = _per_thread.cache = {}
    if key not in cache:
        for old in cache.values():
            close = getattr(old, "close", None)
            if close is not None:
                close()
        cache.clear()  # one setup per thread: a new stage's replaces the last one's
        cache[key] = build()
    return cache[key]


def worker_name() -> str:
    from distributed import get_worker

    try:
        return f"dask worker {get_worker().address}"
    except ValueError:
        return "this process"


def check_benchmark_here(expected: dict, names: Iterable[str], allow_missing: bool) -> None:
    """Refuse, in one line naming the worker and a file, a worker whose benchmark files are
    not the client's: the frames it rendered would differ."""
    from samg.benchmark.assets import allow_missing_assets, benchmark_assets

    allow_missing_assets(allow_missing)
    try:
        here = benchmark_assets().record(names)
    except SamgError as error:
        raise SamgError(f"{worker_name()}: {error}") from None
    if here != expected:
        ours, theirs = set(here["files"]), set(expected["files"])
        name = sorted((theirs - ours) or (ours - theirs) or theirs)[0]
        where = "is missing" if name in theirs - ours else "is present only"
        raise SamgError(
            f"{worker_name()}: benchmark file {name} {where} here, unlike on the client: "
            "run 'samg assets fetch' (or 'samg assets import DIR') on every worker"
        )

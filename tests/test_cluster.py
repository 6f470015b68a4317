"""samg.cluster: scheduler names, per-thread worker state, the workers' benchmark check."""

import pytest

from samg.benchmark.assets import benchmark_assets, missing_allowed
from samg.cluster import check_benchmark_here, check_scheduler, dask_client, thread_cached
from samg.envs import get_task
from samg.envs.appearance import files_of
from samg.errors import SamgError


def test_scheduler_names():
    assert check_scheduler("threads") == "threads" and check_scheduler("tcp://10.0.0.1:8786")
    with pytest.raises(SamgError, match="use threads, processes or tcp://HOST:PORT"):
        check_scheduler("slurm")


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    monkeypatch.setattr("distributed.Client", _refusing_client)
    with pytest.raises(SamgError, match="cannot reach the dask scheduler at tcp://127.0.0.1:1"), dask_client("tcp://127.0.0.1:1"):
        pass


def _refusing_client(address, timeout):
    raise OSError(f"Timed out trying to connect to {address}")


def test_each_key_is_built_once_per_thread_and_a_new_key_closes_the_old():
    built, closed = [], []

    class Thing:
        def __init__(self, key):
            built.append(key)
            self.key = key

        def close(self):
            closed.append(self.key)

    first = thread_cached(("t", 1), lambda: Thing(1))
    assert thread_cached(("t", 1), lambda: Thing(1)) is first and built == [1]
    thread_cached(("t", 2), lambda: Thing(2))
    assert built == [1, 2] and closed == [1]


def test_a_worker_without_the_clients_benchmark_files_fails_in_one_line():
    names = files_of(get_task("door"))
    here = benchmark_assets().record(names)
    check_benchmark_here(here, names, allow_missing=missing_allowed())  # the same files: passes
    client = {**here, "files": {**here["files"], "textures/only-on-the-client.png": "0" * 64}}
    with pytest.raises(SamgError) as refused:
        check_benchmark_here(client, names, allow_missing=missing_allowed())
    message = str(refused.value)
    assert "\n" not in message and "textures/only-on-the-client.png is missing here" in message
    assert message.startswith("this process:") and "samg assets fetch" in message

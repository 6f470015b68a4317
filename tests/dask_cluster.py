"""A real dask cluster on 127.0.0.1 for the tests: `dask scheduler` and `dask worker`
processes (no nanny, so killing one loses it), bounded in time and always torn down."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 120


def _command(*args: str) -> list[str]:
    dask = Path(sys.executable).parent / "dask"
    return [str(dask), *args] if dask.is_file() else [sys.executable, "-m", "dask", *args]


class LocalDaskCluster:
    """`workers` one-thread workers; `address` once started. The workers see this checkout
    first on their path and this process's environment (SAMG_HOME, the missing-files switch)."""

    def __init__(self, folder: Path, workers: int = 2):
        self.folder, self.n_workers = folder, workers
        self.scheduler_file = folder / "scheduler.json"
        self.processes: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}

    def _start(self, *args: str, log: str) -> subprocess.Popen:
        out = open(self.folder / log, "wb")  # noqa: SIM115 (the process writes it until torn down)
        process = subprocess.Popen(_command(*args), env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.folder)
        self.processes.append(process)
        return process

    def start(self) -> "LocalDaskCluster":
        self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", str(self.scheduler_file), log="scheduler.log")  # fmt: skip
        self._wait(lambda: self.scheduler_file.is_file(), "the scheduler to write its file")
        import json

        self.address = json.loads(self.scheduler_file.read_text())["address"]
        for index in range(self.n_workers):
            self.workers.append(
                self._start("worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                            "--host", "127.0.0.1", "--death-timeout", "60", "--name", f"w{index}", log=f"worker{index}.log")  # fmt: skip
            )
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(self.n_workers, timeout=START_SECONDS)
        return self

    def _wait(self, done, what: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not done():
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"timed out waiting for {what}: see {self.folder}/*.log")
            time.sleep(0.2)

    def kill_worker(self, index: int) -> None:
        self.workers[index].kill()
        self.workers[index].wait(30)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

"""Running a sweep's chunks on a Dask distributed cluster, surviving lost workers.

Chunks are submitted as futures; each finished chunk is stored at once (so a
run stopped at any point loses only the chunks in flight). Workers may die:
a chunk whose worker was lost (``KilledWorker``, a cancelled future, a
closed connection) is submitted again, with the shared profiles scattered
again, as long as the cluster has a worker within :data:`WAIT_S` seconds
(a LocalCluster's nannies restart killed workers). When no worker comes
back, or chunks keep being lost, the run stops with one line
(:class:`sim.errors.RunStopped`) saying so and that ``--resume`` continues.
Chunks are deterministic, so where a chunk ran never changes its bits.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import CancelledError

from sim.errors import InputError, RunStopped

#: seconds to wait for a worker when none is left
WAIT_S = float(os.environ.get("GXSIM_DASK_WAIT_S", "30"))
#: rounds of resubmission after losses before giving up
MAX_ROUNDS = 5


def _lost_worker_errors() -> tuple[type[BaseException], ...]:
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    return (KilledWorker, CancelledError, CommClosedError, TimeoutError)


def _connect(address: str):
    from distributed import Client, LocalCluster

    if address == "local":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster, 1
    try:
        return Client(address, timeout="20s"), None, None
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address!r}: {exc}",
                         field="--dask") from None


def run_chunks(address: str, compute, base, cases, bounds, todo, store, bar, *,
               retries: int, evaluate: bool) -> None:
    """Compute chunks ``todo`` on Dask at ``address`` and store each as it finishes.

    Parameters
    ----------
    address : str
        ``tcp://host:8786`` or ``"local"`` (a LocalCluster of 2 processes).
    compute : callable
        :func:`sim.studies.sweep.compute_chunk`.
    base, cases, bounds, todo, store, bar
        The sweep's shared profiles, cases, chunk bounds, chunks to compute,
        chunk store and progress bar.
    retries : int
        Dask's own retries of a failing task.

    Raises
    ------
    sim.errors.RunStopped
        The workers were lost for good; the stored chunks are kept.
    """
    client, cluster, threads = _connect(address)
    pending = list(todo)
    try:
        for _round in range(MAX_ROUNDS + 1):
            # a worker first: scattering to none would only time out
            _wait_for_a_worker(client, len(todo) - len(pending), len(todo))
            lost = _one_round(client, compute, base, cases, bounds, pending, store, bar,
                              retries=retries, evaluate=evaluate, threads=threads)
            if not lost:
                return
            pending = [i for i in pending if i in lost]
        raise RunStopped(_stopped(f"chunks were lost {MAX_ROUNDS + 1} times in a row",
                                  len(todo) - len(pending), len(todo)))
    finally:
        _close(client, cluster)


def _one_round(client, compute, base, cases, bounds, pending, store, bar, *, retries,
               evaluate, threads) -> set[int]:
    """Submit ``pending``, store what finishes; returns the chunks whose worker was lost."""
    lost_types = _lost_worker_errors()
    try:  # scattered anew each round: data on a dead worker is gone
        base_f = client.scatter(base, broadcast=True, hash=False)
        params_f = client.scatter(cases.params, broadcast=True, hash=False)
    except lost_types:
        return set(pending)
    futures = {}
    for i in pending:
        a, b = bounds[i]
        fut = client.submit(compute, base_f, params_f, cases.values[a:b],
                            evaluate=evaluate, threads=threads, retries=retries,
                            key=f"gxsim-sweep-{i}-{os.getpid()}-{time.time_ns()}",
                            pure=False)
        futures[fut] = i
    lost: set[int] = set()
    for fut in _as_finished(client, futures):
        i = futures.pop(fut)
        try:
            data = fut.result()
        except lost_types:
            lost.add(i)
            continue
        store.write(i, data)
        a, b = bounds[i]
        bar.update(b - a)
    if futures:  # left pending: no worker to run them; submitted again next round
        client.cancel(list(futures))
    return lost | set(futures.values())


def _as_finished(client, futures: dict):
    """Yield futures as they finish; stop when no worker has been left for WAIT_S.

    Polls the futures' own state (no ``distributed.wait``: it would use the
    default client, which may be another one of the caller's).
    """
    alone_since = None
    checked = 0.0
    while futures:
        done = [f for f in list(futures) if f.done()]
        yield from done
        if done:
            alone_since = None
            continue
        time.sleep(0.05)
        if time.monotonic() - checked < 1.0:
            continue
        checked = time.monotonic()
        if client.scheduler_info(n_workers=-1).get("workers"):
            alone_since = None
        elif alone_since is None:
            alone_since = checked
        elif checked - alone_since > WAIT_S:
            return


def _wait_for_a_worker(client, stored: int, total: int) -> None:
    try:
        client.wait_for_workers(1, timeout=WAIT_S)
    except (TimeoutError, OSError):
        raise RunStopped(_stopped(f"no Dask worker is left (every worker was lost and "
                                  f"none came back within {WAIT_S:g} s)", stored,
                                  total)) from None


def _stopped(what: str, stored: int, total: int) -> str:
    return (f"{what}; {stored} of the {total} chunks of this run are stored — run the "
            f"same command again with --resume to continue")


def _close(client, cluster) -> None:
    try:
        client.close()
    finally:
        if cluster is not None:
            cluster.close()

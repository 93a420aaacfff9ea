"""The sweep's chunk store (sim.studies.store): identity, lock, checksums, resumption;
Dask runs that lose their workers (sim.studies.sweep_dask); two sweeps racing."""

import importlib
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sim.errors import InputError, RunStopped
from sim.inputs.scenario import scenario_from_dict
from sim.studies.store import (CHECKSUM_KEY, IDENTITY_KEY, ChunkStore, checksum, pack,
                               store_lock, unpack, work_folder)

sw = importlib.import_module("sim.studies.sweep")
ROOT = Path(__file__).resolve().parents[2]

BASE = {
    "region": {"name": "Store test", "municipality": "和泊町", "prefecture": "鹿児島県",
               "latitude": 27.37, "longitude": 128.57, "year": 2023},
    "consumers": [{"id": "homes", "sector": "household", "annual_kwh": 1_000_000}],
    "generators": [{"id": "farm", "kind": "pv", "capacity_kw": 500}],
    "storage": [{"id": "hub", "site": "community", "capacity_kwh": 1000, "power_kw": 250}],
}


def scenario(values=(0.5, 1.0, 1.5, 2.0, 2.5, 3.0), chunk_size=1):
    return scenario_from_dict({**BASE, "sweep": {"chunk_size": chunk_size, "parameters": [
        {"target": "generators[farm].scale", "values": list(values)}]}})


@pytest.fixture(scope="module")
def weather():
    from sim.core.engine import build_inputs

    return build_inputs(scenario()).weather


@pytest.fixture(scope="module")
def whole(weather):
    """The uninterrupted, in-memory run every other run must equal bit for bit."""
    return _strip(sw.run(scenario(), weather=weather, progress=False, evaluate=False).dataset)


def _strip(ds):
    ds = ds.copy()
    ds.attrs.pop("sweep_seconds", None)
    return ds


def _run(weather, out, **kw):
    kw.setdefault("evaluate", False)
    return sw.run(kw.pop("sc", None) or scenario(), output=out, weather=weather,
                  progress=False, **kw)


# -- corrupt and foreign chunks ---------------------------------------------------------

def test_resume_recomputes_a_truncated_chunk_and_names_it(tmp_path, weather, whole):
    out = tmp_path / "out"
    _run(weather, out, max_chunks=4)
    chunk = work_folder(out) / "chunk-000002.npz"
    chunk.write_bytes(chunk.read_bytes()[:200])  # truncated (a full disk, a kill)
    res = _run(weather, out, resume=True)
    assert res.complete and (res.reused, res.computed) == (3, 3)
    assert any("chunk-000002.npz is unreadable" in n and "recomputed" in n
               for n in res.notes), res.notes
    xr.testing.assert_identical(_strip(res.dataset), whole)


def test_resume_recomputes_a_foreign_or_altered_chunk(tmp_path, weather, whole):
    other = tmp_path / "other"
    _run(weather, other, sc=scenario(values=(9, 8, 7, 6, 5, 4)), max_chunks=2)
    out = tmp_path / "out"
    _run(weather, out, max_chunks=3)
    folder = work_folder(out)
    (work_folder(other) / "chunk-000001.npz").replace(folder / "chunk-000001.npz")
    store = ChunkStore(folder, "")
    with np.load(folder / "chunk-000000.npz") as z:  # a number changed, checksum kept
        raw = {k: z[k] for k in z.files}
    kept = {k: raw.pop(k) for k in (IDENTITY_KEY, CHECKSUM_KEY)}
    data = unpack(raw)
    data["generation"] = data["generation"] * 1.01
    np.savez(folder / "chunk-000000.npz", **pack(data), **kept)
    res = _run(weather, out, resume=True)
    notes = " | ".join(res.notes)
    assert "chunk-000001.npz belongs to another sweep; recomputed" in notes
    assert "chunk-000000.npz is corrupt (its checksum does not match)" in notes
    assert (res.reused, res.computed) == (1, 5)
    xr.testing.assert_identical(_strip(res.dataset), whole)
    del store


def test_a_store_of_another_sweep_is_refused_with_or_without_resume(tmp_path, weather):
    out = tmp_path / "out"
    _run(weather, out, max_chunks=1)
    before = sorted(p.name for p in work_folder(out).iterdir())
    for resume in (False, True):
        with pytest.raises(InputError, match="chunks of another sweep"):
            _run(weather, out, sc=scenario(values=(1, 2)), resume=resume)
    assert sorted(p.name for p in work_folder(out).iterdir()) == before


def test_a_folder_of_a_users_files_is_not_a_store(tmp_path, weather):
    out = tmp_path / "out"
    work_folder(out).mkdir()
    (work_folder(out) / "mine.txt").write_text("keep")
    with pytest.raises(InputError, match="did not write"):
        _run(weather, out)
    assert (work_folder(out) / "mine.txt").read_text() == "keep"


# -- one writer at a time ----------------------------------------------------------------

def test_second_writer_is_refused_while_the_first_runs(tmp_path, weather):
    out = tmp_path / "out"
    held, release = threading.Event(), threading.Event()

    def first():
        with store_lock(out):
            held.set()
            release.wait(30)

    t = threading.Thread(target=first)
    t.start()
    try:
        assert held.wait(30)
        with pytest.raises(InputError, match=r"another sweep \(process \d+"):
            _run(weather, out)
    finally:
        release.set()
        t.join()
    assert not work_folder(out).exists()  # the lock leaves nothing behind
    assert _run(weather, out).complete


def test_lock_of_a_killed_writer_is_taken_over_and_said(tmp_path, weather):
    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    work_folder(out).mkdir()
    (work_folder(out) / "lock").write_text(
        f'{{"pid": {dead.pid}, "host": "{os.uname().nodename}"}}')
    res = _run(weather, out)
    assert any(f"took over the lock of process {dead.pid}" in n for n in res.notes)


def test_two_sweeps_into_one_folder_half_a_second_apart(tmp_path):
    """The race of the issue, as a user would start it: one wins, one is refused."""
    paths = []
    for name, values in (("a", "[0.5, 1.0, 1.5, 2.0]"), ("b", "[3.0, 4.0, 5.0, 6.0]")):
        p = tmp_path / f"{name}.toml"
        p.write_text(textwrap.dedent(f"""
            [region]
            name = "Race {name}"
            municipality = "和泊町"
            prefecture = "鹿児島県"
            latitude = 27.37
            longitude = 128.57
            year = 2023
            [[consumers]]
            id = "homes"
            sector = "household"
            annual_kwh = 1_000_000
            [[generators]]
            id = "farm"
            kind = "pv"
            capacity_kw = 500
            [sweep]
            chunk_size = 1
            format = "netcdf"
            [[sweep.parameters]]
            name = "scale"
            target = "generators[farm].scale"
            values = {values}
            """), encoding="utf-8")
        paths.append(p)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = []
    for p in paths:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "sim.cli", "sweep", str(p), "-o", str(out),
             "--no-progress"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
        time.sleep(0.5)
    results = [(pr.wait(120), *pr.communicate()) for pr in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    winner = [r[0] for r in results].index(0)
    loser_err = results[1 - winner][2].strip()
    assert len(loser_err.splitlines()) == 1 and "Traceback" not in loser_err, loser_err
    assert "another sweep" in loser_err or "--overwrite" in loser_err, loser_err
    ds = xr.open_dataset(out / "sweep.nc", engine="h5netcdf").load()
    expected = [0.5, 1.0, 1.5, 2.0] if winner == 0 else [3.0, 4.0, 5.0, 6.0]
    np.testing.assert_array_equal(ds["scale"].values, expected)
    # every case is the winner's: generation grows with the winner's scales only
    gen = ds["generation"].values
    np.testing.assert_allclose(gen / gen[0], np.array(expected) / expected[0], rtol=1e-9)
    assert not work_folder(out).exists()


# -- Dask: lost workers ---------------------------------------------------------------

def test_dask_run_survives_all_its_workers_killed(tmp_path, weather, whole):
    """Both original worker processes SIGKILLed mid-run: the nannies restart them,
    lost chunks run again, the result is the uninterrupted run's, bit for bit."""
    from distributed import Client, LocalCluster

    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
        killed = []

        def killer():
            deadline = time.monotonic() + 600  # the first chunk: workers import and compile
            while time.monotonic() < deadline:
                if list(work_folder(out).glob("chunk-*.npz")):
                    for pid in pids:
                        os.kill(pid, 9)
                        killed.append(pid)
                    return
                time.sleep(0.02)

        t = threading.Thread(target=killer)
        t.start()
        res = _run(weather, out, dask=cluster.scheduler_address)
        t.join()
        with Client(cluster) as client:
            new_pids = set(client.run(os.getpid).values())
    assert len(killed) == 2
    assert not new_pids & set(killed)  # the chunks finished on restarted workers
    assert res.complete
    xr.testing.assert_identical(_strip(res.dataset), whole)


def test_dask_run_without_workers_stops_in_one_line_and_resumes(tmp_path, weather, whole,
                                                                 monkeypatch):
    from distributed import LocalCluster

    from sim.studies import sweep_dask

    monkeypatch.setattr(sweep_dask, "WAIT_S", 1.0)
    out = tmp_path / "out"
    _run(weather, out, max_chunks=2)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        with pytest.raises(RunStopped, match=r"no Dask worker is left.*--resume") as exc:
            _run(weather, out, dask=cluster.scheduler_address, resume=True)
    assert "\n" not in str(exc.value)
    assert len(list(work_folder(out).glob("chunk-*.npz"))) == 2  # kept
    res = _run(weather, out, resume=True)
    assert (res.reused, res.computed) == (2, 4)
    xr.testing.assert_identical(_strip(res.dataset), whole)


def test_packed_chunks_restore_every_array_and_read_unpacked_ones(tmp_path):
    """A chunk's arrays of one dtype and shape are stored stacked (one zip entry
    each, not a hundred): read back, the same names in the same order, dtypes,
    shapes and bytes; a chunk stored flat (by an earlier gxsim) still reads."""
    rng = np.random.default_rng(0)
    data = {"b": rng.random(5), "ok": rng.random(5) > 0.5, "a": rng.random(5),
            "consumer__x": rng.random((5, 3)), "ledger": rng.random((5, 2, 3)),
            "consumer__y": rng.random((5, 3)), "n": np.arange(5), "c": -rng.random(5)}
    packed = pack(data)
    # b, a, c stacked; consumer__x, consumer__y stacked; the others alone
    assert sorted(k for k in packed if not k.endswith("_names") and k != "__order__") == \
        ["__pack__0", "__pack__2", "ledger", "n", "ok"]
    back = unpack(packed)
    assert list(back) == list(data)
    for k, a in data.items():
        assert back[k].dtype == a.dtype and back[k].shape == a.shape
        np.testing.assert_array_equal(back[k], a)
    store = ChunkStore(tmp_path, "me")
    store.write(0, data)
    assert list(store.read(0)) == list(data)
    np.savez(store.path(1), **data, **{IDENTITY_KEY: np.array("me"),
                                       CHECKSUM_KEY: np.array(checksum(data))})
    flat = store.read(1)
    assert list(flat) == list(data)
    np.testing.assert_array_equal(flat["ledger"], data["ledger"])
    bad = dict(packed)  # a pack whose names do not match its arrays: corrupt
    name = next(k for k in bad if k.endswith("_names"))
    bad[name] = bad[name][:-1]
    np.savez(store.path(2), **bad, **{IDENTITY_KEY: np.array("me"),
                                      CHECKSUM_KEY: np.array(checksum(data))})
    assert "corrupt" in store.check(2)

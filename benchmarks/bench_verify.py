"""Scale of ``gxsim verify``: a 10,000-meter × 8760 h file ingested and verified.

The meter file (long layout: timestamp, meter_id, kwh; 87.6 million rows) and
its claim are generated in a temporary folder at benchmark time: Parquet by
default (about 15 s to write), or the 3 GB CSV with ``GXSIM_BENCH_FORMAT=csv``.
The verification runs in a **fresh subprocess** so that its peak memory
(``VmHWM``) is its own, not the test runner's; then twice more, each after
writing and freeing :data:`WARM_GIB` in its process, which on a virtual
machine that backs memory lazily separates the code's time from the
machine's first touch of fresh memory (``seconds_warm_memory``). Run with::

    python -m pytest benchmarks/bench_verify.py --benchmark-only -s

or directly (prints one JSON line per run)::

    python benchmarks/bench_verify.py [N_METERS] [parquet|csv] [float32|float64]

Environment: ``GXSIM_BENCH_METERS`` (default 10000), ``GXSIM_BENCH_FORMAT``
(parquet), ``GXSIM_BENCH_DTYPE`` (float32: the kernel's storage type for
large regions, see ``sim.match``; float64 works too on a 24 GiB machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import tomli_w

YEAR = 2023
N_PLANTS = 50          # 40 rooftop PV at consumers, 10 off-site plants
CHUNK = 500            # meters per written chunk


def claim_dict(n_meters: int, meter_file: str, dtype: str) -> dict:
    n_cons = n_meters - N_PLANTS
    sectors = np.where(np.arange(n_cons) % 10 == 0, "commercial", "household")
    consumers = [{"id": f"c{i:05d}", "sector": str(sectors[i]), "meter": f"C{i:05d}"}
                 for i in range(n_cons)]
    for i in range(0, n_cons, 7):
        consumers[i]["savings"] = 0.05
    gens = []
    for j in range(N_PLANTS):
        on = j < 40
        g = {"id": f"g{j:02d}", "kind": "pv" if j % 10 else "wind", "meter": f"G{j:02d}",
             "capacity_kw": 30.0 if on else 2000.0}
        if g["kind"] == "wind":
            g["hub_height_m"] = 60.0
            # whole turbines (the capacity then caps the output; 800 kW E-53)
            g["turbines"] = max(1, int(np.ceil(g["capacity_kw"] / 800.0)))
        if on:
            g["site"] = f"c{(j * 200) % n_cons:05d}"
        gens.append(g)
    return {
        "region": {"name": "bench island", "municipality": "本町", "prefecture": "鹿児島県",
                   "latitude": 27.4, "longitude": 128.6, "year": YEAR},
        "grid": {"isolated": True, "must_run_kw": 800.0},
        "options": {"dtype": dtype},
        "claimed": {"civil_demand_kwh": 1.0, "renewable_supply_kwh": 1.0},
        "meter_data": {"files": [meter_file], "label": "start", "unit": "kWh",
                       "layout": "long", "interval": 60},
        "consumers": consumers, "generators": gens,
        "storage": [{"id": "community", "site": "community", "capacity_kwh": 4000.0,
                     "power_kw": 1000.0}],
    }


def make_data(folder: Path, n_meters: int = 10_000, fmt: str = "parquet",
              dtype: str = "float32") -> tuple[Path, Path]:
    """Write the long meter file and the claim; returns (claim, meter file)."""
    folder = Path(folder)
    n_cons = n_meters - N_PLANTS
    idx = pd.date_range(f"{YEAR}-01-01", periods=8760, freq="h", tz="Asia/Tokyo")
    n_t = len(idx)
    h = idx.hour.to_numpy()
    doy = idx.day_of_year.to_numpy()
    rng = np.random.default_rng(0)
    shape = (0.6 + 0.8 * np.exp(-((h - 19.5) ** 2) / 8)) * (
        1 + 0.15 * np.cos(2 * np.pi * (doy - 210) / 365))
    sun = np.clip(np.sin(np.pi * (h - 6) / 13), 0, None) * np.repeat(
        rng.uniform(0.3, 1.0, 365), 24)
    wind = np.clip(rng.gamma(2.0, 0.2, n_t), 0, 1)
    ids = [f"C{i:05d}" for i in range(n_cons)] + [f"G{j:02d}" for j in range(N_PLANTS)]
    ts = pa.array(idx.tz_convert("UTC").as_unit("s").asi8, pa.timestamp("s", tz="Asia/Tokyo"))
    schema = pa.schema([("timestamp", pa.timestamp("s", tz="Asia/Tokyo")),
                        ("meter_id", pa.dictionary(pa.int32(), pa.string())),
                        ("kwh", pa.float64())])
    path = folder / f"meters_{n_meters}.{'parquet' if fmt == 'parquet' else 'csv'}"
    dictionary = pa.array(ids)
    writer = pq.ParquetWriter(path, schema) if fmt == "parquet" else None
    csv_writer = None
    try:
        for a in range(0, n_meters, CHUNK):
            b = min(a + CHUNK, n_meters)
            vals = np.empty((b - a, n_t))
            for k, m in enumerate(range(a, b)):
                if m < n_cons:
                    vals[k] = np.round(shape * rng.uniform(0.3, 1.5) *
                                       rng.uniform(0.8, 1.2, n_t), 3)
                else:
                    j = m - n_cons
                    cap = 30.0 if j < 40 else 2000.0
                    prof = wind if j % 10 == 0 else sun * 0.8
                    vals[k] = np.round(cap * prof, 3)
            codes = np.repeat(np.arange(a, b, dtype=np.int32), n_t)
            table = pa.table({
                "timestamp": pa.concat_arrays([ts] * (b - a)),
                "meter_id": pa.DictionaryArray.from_arrays(pa.array(codes), dictionary),
                "kwh": pa.array(vals.reshape(-1))}, schema=schema)
            if writer is not None:
                writer.write_table(table)
            else:
                t2 = table.set_column(1, "meter_id", table["meter_id"].cast(pa.string()))
                if csv_writer is None:
                    csv_writer = pacsv.CSVWriter(path, t2.schema)
                csv_writer.write_table(t2)
    finally:
        if writer is not None:
            writer.close()
        if csv_writer is not None:
            csv_writer.close()
    claim = folder / "claim.toml"
    claim.write_text(tomli_w.dumps(claim_dict(n_meters, path.name, dtype)), encoding="utf-8")
    return claim, path


def _child(claim: str, meter: str, warm_gib: float = 0.0) -> None:
    """Run in the subprocess: verify, print timings, verdict and peak memory (VmHWM) as JSON.

    ``warm_gib`` > 0: first write and free that many GiB, so that verify's
    memory is memory the virtual machine has just backed (see
    :data:`WARM_GIB`); the peak then includes it and is not reported."""
    import resource

    import sim
    if warm_gib > 0:
        buf = np.ones(int(warm_gib * 2**30) // 8)
        del buf
    t0 = time.perf_counter()
    v = sim.verify(claim, [meter])
    elapsed = time.perf_counter() - t0
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through
    # fork + exec, so under a pytest process holding large arrays (the full
    # benchmark run) it reported the parent's 12 GiB instead of verify's peak.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB (Linux)
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) / 1024
    except OSError:
        pass
    if warm_gib > 0:
        rss = float("nan")
    print(json.dumps({"seconds": elapsed, "peak_rss_mib": rss, "verdict": v.verdict,
                      "meters": v.quality["meters"], "hours": v.quality["hours"],
                      "problems": len(v.meter.problems), "timings": v.timings,
                      "civil_demand_kwh": v.figures["civil_demand_kwh"],
                      "renewable_supply_hourly_kwh": v.figures["renewable_supply_hourly_kwh"]}))


#: GiB written and freed before the "warm" run. A virtual machine whose host
#: backs guest memory lazily, and takes freed memory back, makes every fresh
#: GiB cost seconds (2.7 s per GiB on the 2-core development VM, against
#: ~0.2 s on hardware); the warm run measures the code with memory the guest
#: has just been given, the cold one what a user of that VM waits.
WARM_GIB = 3.0


def _memory_state() -> dict:
    """The machine's available memory and this (parent) process's resident
    memory [GiB] when verify starts: with little available, every page the
    child touches first makes the system reclaim one."""
    out = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                out["mem_available_gib"] = int(line.split()[1]) / 2**20
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["parent_rss_gib"] = int(line.split()[1]) / 2**20
    except OSError:
        pass
    return out


def run_subprocess(claim: Path, meter: Path, warm_gib: float = 0.0) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(claim), str(meter),
                          str(warm_gib)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"verify subprocess failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _settings():
    return (int(os.environ.get("GXSIM_BENCH_METERS", 10_000)),
            os.environ.get("GXSIM_BENCH_FORMAT", "parquet"),
            os.environ.get("GXSIM_BENCH_DTYPE", "float32"))


try:
    import pytest

    @pytest.fixture(scope="module")
    def big_claim(tmp_path_factory):
        n, fmt, dtype = _settings()
        t0 = time.perf_counter()
        claim, meter = make_data(tmp_path_factory.mktemp("verify_bench"), n, fmt, dtype)
        print(f"\ngenerated {meter.name} ({meter.stat().st_size / 1e9:.2f} GB) in "
              f"{time.perf_counter() - t0:.0f} s")
        return claim, meter

    def test_verify_10k_meters(benchmark, big_claim):
        from conftest import record

        claim, meter = big_claim
        info = {}

        def once():
            info.update(run_subprocess(claim, meter))

        before = _memory_state()
        benchmark.pedantic(once, rounds=1, iterations=1)
        benchmark.extra_info.update(info)
        warm = [run_subprocess(claim, meter, WARM_GIB) for _ in range(2)]
        warm_s = ", ".join(f"{w['seconds']:.1f}" for w in warm)
        print(f"\nverify {info['meters']} meters x {info['hours']} h: "
              f"{info['seconds']:.1f} s, peak RSS {info['peak_rss_mib'] / 1024:.2f} GiB, "
              f"stages {info['timings']}; with memory just backed by the VM: {warm_s} s")
        record(benchmark, "verify_10000_meters", seconds=info["seconds"],
               peak_rss_gib=info["peak_rss_mib"] / 1024, stages=info["timings"],
               seconds_warm_memory=[w["seconds"] for w in warm],
               stages_warm_memory=[w["timings"] for w in warm], verdict=info["verdict"],
               load_average=os.getloadavg()[0], **before)
        assert info["meters"] == _settings()[0]
        assert info["peak_rss_mib"] < 20 * 1024
        # the same verdict and figures whatever the memory
        for w in warm:
            assert (w["verdict"], w["civil_demand_kwh"]) == (info["verdict"],
                                                            info["civil_demand_kwh"])
except ImportError:  # pragma: no cover - the child process needs no pytest
    pass


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 0.0)
        sys.exit(0)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    fmt = sys.argv[2] if len(sys.argv) > 2 else "parquet"
    dtype = sys.argv[3] if len(sys.argv) > 3 else "float32"
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        claim, meter = make_data(Path(d), n, fmt, dtype)
        print(json.dumps({"generated": meter.name, "bytes": meter.stat().st_size,
                          "seconds": time.perf_counter() - t0}))
        print(json.dumps(run_subprocess(claim, meter)))

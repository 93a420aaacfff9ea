"""Plot kernel throughput against region size from results/latest.json.

    python benchmarks/plot.py        # writes benchmarks/results/throughput.png
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> Path:
    res = json.loads((HERE / "results" / "latest.json").read_text())
    sizes = sorted(int(k.split("_")[1]) for k in res
                   if k.startswith("kernel_") and k.count("_") == 1)
    fig, ax = plt.subplots(figsize=(7, 4.5))

    def line(keys, field, label, **style):
        xs = [n for n in sizes if keys(n) in res and field in res[keys(n)]]
        if xs:
            ax.plot(xs, [res[keys(n)][field] / 1e6 for n in xs], label=label, **style)

    line(lambda n: f"stream_{n}", "rate_r2w2", "numpy streaming bound, read 2 + write 2",
         ls="--", color="grey")
    line(lambda n: f"stream_{n}", "rate_r2w8", "numpy streaming bound, read 2 + write 8",
         ls=":", color="grey")
    line(lambda n: f"kernel_{n}", "rate", "gxsim kernel float64 (all cores)", marker="o")
    line(lambda n: f"kernel_{n}_float32", "rate", "gxsim kernel float32", marker="s")
    line(lambda n: f"match_fresh_{n}", "rate", "sim.match, fresh outputs", marker="^")
    line(lambda n: f"reference_{n}", "rate", "numpy per-hour reference", marker="x")
    line(lambda n: f"pandas_{n}", "rate", "pandas hour loop", marker="+")
    one = res.get("kernel_10000_1thread")
    if one:
        ax.plot([10_000], [one["rate"] / 1e6], "k*", label="gxsim kernel, 1 thread")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("consumers (x 8760 h)")
    ax.set_ylabel("million consumer-hours / s")
    m = res.get("machine", {})
    ax.set_title(f"gxsim kernel throughput — {m.get('cpu', '?')}, {m.get('nproc', '?')} "
                 f"cores, {m.get('date', '')[:10]}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    out = HERE / "results" / "throughput.png"
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    return out


if __name__ == "__main__":
    print(main())

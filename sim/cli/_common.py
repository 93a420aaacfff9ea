"""What every ``gxsim`` command shares: output folders, warnings, progress.

* outputs go to ``results/<input name>/<command>/`` unless ``-o`` names a folder;
* likely mistakes in valid input (:func:`sim.inputs.scenario.scenario_hints`)
  are printed as warnings;
* progress: a tqdm bar on a terminal, and a line when numba compiles its
  kernels (a cold cache: the first run after installing or changing the code).
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path


def output_folder(output: str | None, input_path: str | Path, command: str) -> Path:
    """``-o`` if given, else ``results/<input file stem>/<command>``."""
    if output:
        return Path(output)
    return Path("results") / Path(input_path).stem / command


def warn_hints(command: str, scenario) -> list[str]:
    """Print the scenario's hints as warnings on stderr; returns them."""
    from sim.inputs.scenario import scenario_hints

    hints = scenario_hints(scenario)
    for h in hints:
        print(f"gxsim {command}: warning: {h}", file=sys.stderr)
    return hints


def show_progress(disabled: bool = False) -> bool:
    """Whether to draw progress bars: on a terminal, unless ``--no-progress``."""
    return not disabled and sys.stderr.isatty()


def _say(message: str, stream) -> None:
    """A line on ``stream`` that does not break a progress bar being drawn."""
    from tqdm import tqdm

    tqdm.write(message, file=stream)
    stream.flush()


@contextlib.contextmanager
def numba_notice(command: str, stream=None):
    """Say so when numba compiles (a cold cache), and how long it took.

    numba emits a ``numba:compile`` event only when it really compiles, not when
    it loads a function from its cache, so a warm run prints nothing.
    """
    from numba.core import event

    stream = stream or sys.stderr
    state = {"depth": 0, "start": None, "end": None}

    class _Listener(event.Listener):
        def on_start(self, ev):
            if state["start"] is None:
                state["start"] = time.perf_counter()
                _say(f"gxsim {command}: numba is compiling the kernels (cold cache; "
                     "later runs load them from the cache) ...", stream)
            state["depth"] += 1

        def on_end(self, ev):
            state["depth"] -= 1
            state["end"] = time.perf_counter()

    listener = _Listener()
    event.register("numba:compile", listener)
    try:
        yield state
    finally:
        event.unregister("numba:compile", listener)
        if state["start"] is not None and state["end"] is not None:
            _say(f"gxsim {command}: numba compiled in {state['end'] - state['start']:.1f} s",
                 stream)


class Stages:
    """A tqdm bar over a command's named stages (drawn only on a terminal)."""

    def __init__(self, command: str, names: list[str], enabled: bool):
        from tqdm import tqdm

        self.names = names
        self.command = command
        self.bar = tqdm(total=len(names), desc=command, unit="step", disable=not enabled,
                        bar_format="{desc} (step {n}/{total}, {elapsed})")

    def start(self, name: str) -> None:
        self.bar.set_description(f"gxsim {self.command}: {name}")

    def done(self) -> None:
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()

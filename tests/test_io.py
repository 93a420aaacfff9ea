"""sim.io: output folders gxsim owns, input files checked before reading, memory."""

import json
import os
import stat
import subprocess
import sys

import pytest

from sim.errors import InputError
from sim.io import (MARKER, atomic_output_dir, check_input_file, check_memory,
                    check_output_target, read_marker, remove_stale_partials)


def _write(folder, files, **kwargs):
    with atomic_output_dir(folder, **kwargs) as tmp:
        for name, text in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text)


# -- output folders ----------------------------------------------------------------

def test_new_folder_gets_the_files_and_a_manifest(tmp_path):
    out = tmp_path / "a" / "out"
    _write(out, {"x.csv": "1", "sub/y.txt": "2"})
    assert (out / "x.csv").read_text() == "1"
    marker = read_marker(out)
    assert marker["files"] == ["sub/", "sub/y.txt", "x.csv"]
    assert not list(tmp_path.glob("a/.*partial"))


def test_empty_folder_is_used(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    _write(out, {"x.csv": "1"})
    assert (out / "x.csv").exists()


def test_a_users_folder_is_refused_and_untouched(tmp_path):
    out = tmp_path / "myproject"
    out.mkdir()
    (out / "base.toml").write_text("precious")
    for overwrite in (False, True):
        with pytest.raises(InputError, match="did not write"):
            _write(out, {"x.csv": "1"}, overwrite=overwrite)
    assert sorted(p.name for p in out.iterdir()) == ["base.toml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["myproject"]  # no partial left


def test_own_folder_needs_overwrite_and_keeps_a_users_files(tmp_path):
    out = tmp_path / "out"
    _write(out, {"old.csv": "1", "both.csv": "old", "sub/a.txt": "a"})
    with pytest.raises(InputError, match="--overwrite"):
        _write(out, {"both.csv": "new"})
    (out / "notes.txt").write_text("mine")
    (out / "sub" / "mine.txt").write_text("mine too")
    _write(out, {"both.csv": "new"}, overwrite=True)
    assert (out / "both.csv").read_text() == "new"
    assert not (out / "old.csv").exists()          # gxsim's own, replaced
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "sub" / "mine.txt").read_text() == "mine too"
    assert not (out / "sub" / "a.txt").exists()
    assert read_marker(out)["files"] == ["both.csv"]


def test_own_folder_without_a_users_files_is_swapped_whole(tmp_path):
    out = tmp_path / "out"
    _write(out, {"old.csv": "1"})
    _write(out, {"new.csv": "2"}, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "new.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_users_file_with_an_output_name_is_never_replaced(tmp_path):
    out = tmp_path / "out"
    _write(out, {"a.csv": "1"})
    (out / "summary.txt").write_text("mine")
    with pytest.raises(InputError, match="summary.txt"):
        _write(out, {"summary.txt": "gxsim"}, overwrite=True)
    assert (out / "summary.txt").read_text() == "mine"
    assert (out / "a.csv").read_text() == "1"


def test_file_and_working_folder_refused(tmp_path, monkeypatch):
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        check_output_target(f, overwrite=True)
    assert f.read_text() == "x"
    monkeypatch.chdir(tmp_path)
    (tmp_path / MARKER).write_text(json.dumps({"gxsim": "0", "files": []}))
    for target in (".", tmp_path, tmp_path.parent, "/"):
        with pytest.raises(InputError, match="working folder"):
            check_output_target(target, overwrite=True)


def test_error_inside_leaves_the_old_results(tmp_path):
    out = tmp_path / "out"
    _write(out, {"a.csv": "1"})
    with pytest.raises(RuntimeError):
        with atomic_output_dir(out, overwrite=True) as tmp:
            (tmp / "a.csv").write_text("2")
            raise RuntimeError("boom")
    assert (out / "a.csv").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_folders_and_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        _write(tmp_path / "out", {"a.csv": "1"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "out" / "a.csv").stat().st_mode) == 0o644


def test_partials_of_killed_runs_are_removed_at_the_next_run(tmp_path):
    out = tmp_path / "out"
    # a run killed with SIGKILL while writing leaves its partial folder
    code = ("import os, sys; from sim.io import atomic_output_dir\n"
            "with atomic_output_dir(sys.argv[1]) as tmp:\n"
            "    (tmp / 'half.csv').write_text('1'); os._exit(9)\n")
    subprocess.run([sys.executable, "-c", code, str(out)], check=False,
                   env={**os.environ, "PYTHONPATH": os.getcwd()})
    left = list(tmp_path.glob(".out.*.partial"))
    assert len(left) == 1
    mine = tmp_path / ".out.users.partial"  # same pattern, not gxsim's: kept
    mine.mkdir()
    _write(out, {"a.csv": "1"})
    assert not left[0].exists()
    assert mine.exists()
    assert remove_stale_partials(out) == []


def test_partial_of_a_running_process_is_kept(tmp_path):
    out = tmp_path / "out"
    with atomic_output_dir(out) as tmp:
        assert remove_stale_partials(out) == []
        assert tmp.exists()


# -- input files -----------------------------------------------------------------------

def test_input_must_be_a_regular_file(tmp_path):
    fifo = tmp_path / "meter.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        check_input_file(fifo, "meter file")
    with pytest.raises(InputError, match="device"):
        check_input_file("/dev/zero", "projection file")
    with pytest.raises(InputError, match="folder"):
        check_input_file(tmp_path, "case table")
    with pytest.raises(InputError, match="not found"):
        check_input_file(tmp_path / "nope.csv", "case table")


def test_input_size_limit_and_how_to_raise_it(tmp_path, monkeypatch):
    f = tmp_path / "big.csv"
    f.write_bytes(b"x" * (2 * 2**20))
    with pytest.raises(InputError, match="above the limit of 1 MB.*--max-input-mb"):
        check_input_file(f, "case table", 1)
    monkeypatch.setenv("GXSIM_MAX_INPUT_MB", "1")
    with pytest.raises(InputError, match="GXSIM_MAX_INPUT_MB"):
        check_input_file(f, "case table", "table")
    monkeypatch.setenv("GXSIM_MAX_INPUT_MB", "3")
    assert check_input_file(f, "case table", "table") == f


def test_memory_refusal_says_how_much(monkeypatch):
    monkeypatch.setenv("GXSIM_MEMORY_MB", "100")
    with pytest.raises(InputError, match=r"about 6\.5 GB of memory; 100\.0 MB is available"):
        check_memory(100_000 * 8784 * 8 + 0.0, "100,000 consumers × 8,784 h")
    check_memory(50 * 2**20, "small")

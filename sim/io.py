"""Reading and writing the user's files safely.

Output folders
    Every command writes its results into a fresh temporary folder beside the
    target and moves it into place only when everything is written, so an
    interrupted run never leaves a partial result that looks whole. gxsim
    writes only into a folder that is new, empty, or one it wrote itself
    (a marker file, :data:`MARKER`, lists the files it wrote); replacing its
    own results needs ``overwrite=True`` (``--overwrite``) and touches only the
    files in that list, so files a user added later survive. Folders and files
    follow the user's umask.

Input files
    :func:`check_input_file` is called by every reader before it opens a
    file: a regular file (a FIFO would block forever, ``/dev/zero`` never
    ends) under a size limit; :func:`check_memory` refuses a run that would
    not fit in memory before anything is allocated.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import socket
import stat
import time
from pathlib import Path

import numpy as np

from sim.errors import InputError

#: the file in every folder gxsim wrote, listing the files it wrote there
MARKER = ".gxsim-output.json"
#: default size limits of input files [MB], by kind (raise with --max-input-mb
#: or the GXSIM_MAX_INPUT_MB environment variable)
INPUT_LIMITS_MB = {"toml": 16, "table": 512, "weather": 512, "meter": 4096}
#: environment variable raising (or lowering) every input size limit [MB]
LIMIT_ENV = "GXSIM_MAX_INPUT_MB"
#: environment variable setting the memory a run may use [MB] (default: available)
MEMORY_ENV = "GXSIM_MEMORY_MB"


# -- input files ------------------------------------------------------------------

def input_limit_mb(kind: str = "table") -> float:
    """The size limit [MB] of an input file of ``kind`` (``toml``, ``table``, …)."""
    env = os.environ.get(LIMIT_ENV)
    if env:
        try:
            return float(env)
        except ValueError:
            raise InputError(f"expected a number of MB, got {env!r}", field=LIMIT_ENV) from None
    return float(INPUT_LIMITS_MB.get(kind, INPUT_LIMITS_MB["table"]))


def check_input_file(path: str | Path, what: str, limit: str | float = "table", *,
                     source: str | Path | None = None, field: str | None = None) -> Path:
    """Refuse an input that is not a regular file of a sane size, before reading it.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What it is, for the message (``"meter file"``, ``"case table"``).
    limit : str or float, default "table"
        A kind of :data:`INPUT_LIMITS_MB` or a limit [MB].
    source, field : optional
        Where the path was given (the scenario file and field), for the message.

    Returns
    -------
    Path

    Raises
    ------
    sim.InputError
        Missing, a folder, a FIFO or device, or larger than the limit.
    """
    path = Path(path)
    where = dict(source=source or path, field=field)
    it = f"the {what}" if source is None else f"the {what} {path}"
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"{it} is not found", **where) from None
    except OSError as exc:
        raise InputError(f"cannot read {it}: {exc.strerror}", **where) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{it} is a folder; expected a file", **where)
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else
                "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise InputError(f"{it} is {kind}; expected a regular file", **where)
    mb = input_limit_mb(limit) if isinstance(limit, str) else float(limit)
    if st.st_size > mb * 2**20:
        raise InputError(f"{it} is {st.st_size / 2**20:,.1f} MB, above the limit of "
                         f"{mb:,.0f} MB; raise it with --max-input-mb or {LIMIT_ENV}",
                         **where)
    return path


def available_memory() -> int:
    """Memory a run may use [bytes]: ``GXSIM_MEMORY_MB`` or what the system has free."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        try:
            return int(float(env) * 2**20)
        except ValueError:
            raise InputError(f"expected a number of MB, got {env!r}", field=MEMORY_ENV) from None
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil comes with dask.distributed
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_memory(need_bytes: float, what: str, *, source: str | Path | None = None,
                 field: str | None = None) -> None:
    """Refuse, in one line, a run needing more memory than is available.

    Parameters
    ----------
    need_bytes : float
        The estimate [bytes], e.g. consumers × hours × 8 × arrays.
    what : str
        What needs it (``"100,000 consumers × 8,760 h"``), for the message.
    """
    have = available_memory()
    if need_bytes > have:
        raise InputError(f"{what} would need about {_size(need_bytes)} of memory; "
                         f"{_size(have)} is available (set {MEMORY_ENV} to change the "
                         f"limit, or make the run smaller)", source=source, field=field)


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


# -- output folders ---------------------------------------------------------------

def read_marker(folder: str | Path) -> dict | None:
    """gxsim's marker of ``folder`` (None when gxsim did not write it)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "gxsim" in data else None


def check_output_target(target: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse, before any work, an output folder gxsim must not write into.

    Allowed: a new folder, an empty folder, or (with ``overwrite``) a folder
    gxsim wrote. Refused: a file, the working folder or one of its parents, a
    folder holding anything gxsim did not write.

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    sim.InputError
        With a hint (another ``-o``, ``--overwrite``).
    """
    target = Path(target)
    fld = "-o"
    resolved = target.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise InputError(f"{target} is the working folder or one of its parents; "
                         f"choose a folder for the results, e.g. -o results/run1", field=fld)
    if target.is_symlink() and not target.exists():
        raise InputError(f"{target} is a broken link; choose another folder", field=fld)
    if not target.exists():
        return target
    if not target.is_dir():
        raise InputError(f"{target} is a file, not a folder; choose a folder for the "
                         f"results (gxsim never replaces a file)", field=fld)
    if not any(target.iterdir()):
        return target
    if read_marker(target) is None:
        raise InputError(f"{target} holds files gxsim did not write; choose a new or "
                         f"empty folder (gxsim never deletes files it did not write)",
                         field=fld)
    if not overwrite:
        raise InputError(f"{target} holds results of an earlier run; add --overwrite to "
                         f"replace them (files you added are kept) or choose another "
                         f"folder", field=fld)
    return target


@contextlib.contextmanager
def atomic_output_dir(target: str | Path, *, overwrite: bool = False,
                      info: dict | None = None):
    """Yield a temporary folder whose files replace ``target``'s once the block succeeds.

    Parameters
    ----------
    target : str or Path
        The output folder (see :func:`check_output_target` for what is allowed).
    overwrite : bool, default False
        Replace the results in a folder gxsim wrote earlier: only the files
        its marker lists are removed; files added by a user stay.
    info : dict, optional
        Extra facts for the marker (e.g. the sweep's identity).

    Raises
    ------
    sim.InputError
        The target is refused (checked before and again after the block, as
        another run may have written it meanwhile); nothing is written then.
    """
    target = check_output_target(target, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)  # mode 0o777 & ~umask
    remove_stale_partials(target)
    tmp = _new_partial(target)
    try:
        yield tmp
        files = _manifest(tmp)
        _write_marker(tmp, {**(info or {}), "files": files})
        _install(tmp, target, overwrite=overwrite, files=files)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _marker_base() -> dict:
    from sim._version import __version__

    return {"gxsim": __version__, "pid": os.getpid(), "host": socket.gethostname(),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _write_marker(folder: Path, extra: dict) -> None:
    tmp = folder / f"{MARKER}.tmp"
    tmp.write_text(json.dumps({**_marker_base(), **extra}, indent=1, ensure_ascii=False)
                   + "\n", encoding="utf-8")
    os.replace(tmp, folder / MARKER)


def _new_partial(target: Path) -> Path:
    """A new ``.NAME.XXXXXXXX.partial`` folder beside ``target``, marked as gxsim's."""
    while True:
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.partial"
        try:
            tmp.mkdir()  # not mkdtemp: its 0700 would hide results from colleagues
        except FileExistsError:
            continue
        _write_marker(tmp, {"partial": True, "files": []})
        return tmp


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a lock or partial folder's owner)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(target: str | Path) -> list[Path]:
    """Remove partial folders that killed runs into ``target`` left behind.

    Only folders named ``.NAME.*.partial`` (or ``.NAME.old-*``) that carry
    gxsim's marker of a process on this machine that no longer runs.
    Returns the folders removed.
    """
    target = Path(target)
    removed = []
    if not target.parent.is_dir():
        return removed
    patterns = [f".{target.name}.*.partial"]
    if target.exists():  # an old copy is the only one while the new is not in place
        patterns.append(f".{target.name}.old-*")
    for pattern in patterns:
        for p in target.parent.glob(pattern):
            m = read_marker(p) if p.is_dir() and not p.is_symlink() else None
            if (m is None or m.get("host") != socket.gethostname()
                    or pid_alive(int(m.get("pid", 0)))):
                continue
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _manifest(folder: Path) -> list[str]:
    """Every file and folder under ``folder`` (relative, folders ending in /)."""
    out = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        out += [f"{(rel / d).as_posix()}/" for d in dirs]
        out += [(rel / f).as_posix() for f in files if not (rel == Path(".") and
                                                           f.startswith(MARKER))]
    return sorted(out)


def _install(tmp: Path, target: Path, *, overwrite: bool, files: list[str]) -> None:
    """Move the finished ``tmp`` into place (whole, or file by file beside a user's)."""
    check_output_target(target, overwrite=overwrite)  # another run may have written it
    try:
        os.rename(tmp, target)  # new target, or an empty folder
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    old = read_marker(target) or {}
    old_files = set(old.get("files", []))
    current = set(_manifest(target))
    extra = current - old_files
    clash = sorted(f for f in extra if f in files and not f.endswith("/"))
    if clash:
        raise InputError(f"{target} holds {clash[0]}, which gxsim did not write and would "
                         f"replace; move it away or choose another folder", field="-o")
    if not extra:  # only gxsim's files: swap the folders whole
        aside = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
        os.rename(target, aside)
        os.rename(tmp, target)
        shutil.rmtree(aside, ignore_errors=True)
        return
    _merge(tmp, target, old_files, files)


def _merge(tmp: Path, target: Path, old_files: set, files: list[str]) -> None:
    """Replace gxsim's files in ``target`` by ``tmp``'s, keeping a user's files."""
    for f in sorted(old_files, key=len, reverse=True):  # deepest first
        p = target / f.rstrip("/")
        if f.endswith("/"):
            with contextlib.suppress(OSError):
                p.rmdir()  # kept when a user's file is inside
        elif p.is_file() or p.is_symlink():
            p.unlink()
    for f in files:
        src, dst = tmp / f.rstrip("/"), target / f.rstrip("/")
        if f.endswith("/"):
            dst.mkdir(exist_ok=True)
        else:
            os.replace(src, dst)
    os.replace(tmp / MARKER, target / MARKER)
    shutil.rmtree(tmp, ignore_errors=True)


# -- JSON ---------------------------------------------------------------------------

def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(path: str | Path, data) -> None:
    """Write ``data`` as UTF-8 JSON (numpy scalars converted, NaN as null)."""
    Path(path).write_text(json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")

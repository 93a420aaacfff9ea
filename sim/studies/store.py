"""Where a sweep keeps its finished chunks until its results are written.

The chunks of a sweep into ``OUT`` live in :func:`work_folder` (``.OUT.sweep-chunks``
beside it), one ``chunk-NNNNNN.npz`` each, written atomically. Nothing a user
owns is mixed into them or lost by them:

* the store carries the sweep's *identity* (a hash of the scenario, the sweep
  definition, the profiles and the gxsim version) in ``meta.json``; a sweep of
  another identity is refused, with or without ``--resume``;
* every chunk carries the identity and a checksum of its arrays; resuming
  recomputes, and names, any chunk that is truncated, corrupt or foreign;
* one writer at a time: :func:`store_lock` holds an ``fcntl`` lock on
  ``lock`` (with the writer's pid and host) for the whole run, so a second
  sweep into the same folder is refused while the first runs; the lock of a
  writer that was killed is taken over, and the run says so.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import threading
import zipfile
from pathlib import Path

import numpy as np

from sim.errors import InputError
from sim.io import pid_alive

#: keys every stored chunk carries beside its arrays
IDENTITY_KEY, CHECKSUM_KEY = "__identity__", "__checksum__"
#: the names of a chunk's arrays in their order, and the prefix of the packs of
#: its one-dimensional figures (:func:`pack`)
ORDER_KEY, PACK_PREFIX = "__order__", "__pack__"
_LOCK = "lock"
_META = "meta.json"


def work_folder(output: str | Path) -> Path:
    """Where the chunks of a sweep into ``output`` are kept until it completes."""
    output = Path(output)
    return output.parent / f".{output.name}.sweep-chunks"


def checksum(data: dict[str, np.ndarray]) -> str:
    """SHA-256 of a chunk's arrays (names, dtypes, shapes and bytes)."""
    h = hashlib.sha256()
    for k in sorted(k for k in data if k not in (IDENTITY_KEY, CHECKSUM_KEY)):
        a = np.ascontiguousarray(data[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def pack(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A chunk's arrays for ``np.savez``, those of the same dtype and shape (the
    hundred figures of one value per case, the per consumer flows, the per
    generator columns) stacked into one array each.

    Each array of an ``.npz`` is a zip entry with its own header, ~50 µs to
    write whatever its size: a chunk's hundred and twenty arrays cost ~5 ms,
    more than its cases' evaluation. :func:`unpack` restores the same arrays
    (the same bytes, dtypes and shapes) in the same order.
    """
    out: dict[str, np.ndarray] = {ORDER_KEY: np.array(list(data), dtype=str)}
    groups: dict[tuple, list[str]] = {}
    for k, a in data.items():
        a = np.asarray(a)
        if a.dtype.kind in "fbiu":
            groups.setdefault((a.dtype.str, a.shape), []).append(k)
        else:
            out[k] = a
    for j, keys in enumerate(groups.values()):
        if len(keys) == 1:
            out[keys[0]] = np.asarray(data[keys[0]])
            continue
        out[f"{PACK_PREFIX}{j}"] = np.stack([np.asarray(data[k]) for k in keys])
        out[f"{PACK_PREFIX}{j}_names"] = np.array(keys, dtype=str)
    return out


def unpack(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays :func:`pack` stored, in their order (a chunk stored without
    packs, by an earlier gxsim, is returned as it is)."""
    if ORDER_KEY not in data:
        return data
    flat = {k: v for k, v in data.items() if not k.startswith(PACK_PREFIX) and k != ORDER_KEY}
    for name, stacked in data.items():
        if name.startswith(PACK_PREFIX) and not name.endswith("_names"):
            keys = data[f"{name}_names"].tolist()
            if len(keys) != len(stacked):
                raise ValueError(f"{name}: {len(stacked)} arrays, {len(keys)} names")
            flat.update(zip(keys, stacked))
    return {k: flat[k] for k in data[ORDER_KEY].tolist()}


# -- one writer at a time -----------------------------------------------------------

_HELD: dict[tuple[str, int], list] = {}  # (folder, thread) -> [fd, depth, note]
_HELD_GUARD = threading.Lock()


def _holder(text: str) -> tuple[int, str]:
    try:
        info = json.loads(text)
        return int(info.get("pid", 0)), str(info.get("host", ""))
    except (ValueError, TypeError, AttributeError):
        return 0, ""


def _acquire(folder: Path) -> tuple[int, str | None]:
    """Lock ``folder``; returns the file descriptor and a note (a lock taken over)."""
    for _ in range(20):  # the folder or lock file may vanish as a finishing run leaves
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / _LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, host = _holder(os.pread(fd, 4096, 0).decode(errors="replace"))
            os.close(fd)
            raise InputError(f"another sweep (process {pid or '?'} on {host or '?'}) is "
                             f"writing into this folder; wait for it to finish or choose "
                             f"another -o", source=folder) from None
        try:  # the file we locked must still be the one at the path
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        pid, host = _holder(os.pread(fd, 4096, 0).decode(errors="replace"))
        me = socket.gethostname()
        if pid and pid != os.getpid() and host == me and pid_alive(pid):
            os.close(fd)  # a file system without working locks: trust the pid
            raise InputError(f"another sweep (process {pid}) is writing into this folder; "
                             f"wait for it to finish or choose another -o", source=folder)
        note = (f"took over the lock of process {pid} on {host}, which no longer runs"
                if pid else None)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": me}).encode(), 0)
        return fd, note
    raise InputError("could not lock the chunk folder (it keeps disappearing)",
                     source=folder)


def _release(folder: Path, fd: int) -> None:
    """Unlock; remove the lock file (and the folder when nothing else is in it)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(folder / _LOCK)
    os.close(fd)
    with contextlib.suppress(OSError):
        folder.rmdir()  # kept when chunks remain (an interrupted or partial run)


@contextlib.contextmanager
def store_lock(output: str | Path | None):
    """Hold the lock of the chunk store of a sweep into ``output`` (re-entrant per thread).

    Yields
    ------
    str or None
        A note when the lock of a killed writer was taken over.

    Raises
    ------
    sim.InputError
        Another sweep holds the lock.
    """
    if output is None:
        yield None
        return
    folder = work_folder(output)
    key = (str(folder.absolute()), threading.get_ident())
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is not None:
            held[1] += 1
    if held is not None:
        try:
            yield held[2]
        finally:
            held[1] -= 1
        return
    fd, note = _acquire(folder)
    with _HELD_GUARD:
        _HELD[key] = [fd, 1, note]
    try:
        yield note
    finally:
        with _HELD_GUARD:
            del _HELD[key]
        _release(folder, fd)


# -- the chunks -----------------------------------------------------------------------

class ChunkStore:
    """Finished chunks of one sweep on disk (see the module docstring).

    Parameters
    ----------
    folder : str or Path
        The work folder (:func:`work_folder`).
    identity : str
        The sweep's identity (a hex digest).
    """

    def __init__(self, folder: str | Path, identity: str = ""):
        self.folder = Path(folder)
        self.identity = identity

    def path(self, i: int) -> Path:
        """File of chunk ``i``."""
        return self.folder / f"chunk-{i:06d}.npz"

    def open(self, n_chunks: int, *, resume: bool) -> tuple[list[int], list[str]]:
        """Prepare the folder (locked by :func:`store_lock`).

        Returns
        -------
        (list of int, list of str)
            The sound chunks already stored (``resume``), and notes naming
            every chunk found corrupt or foreign (removed, to be recomputed).

        Raises
        ------
        sim.InputError
            The folder holds another sweep's chunks, or files gxsim did not write.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        self._check_owner()
        for p in self.folder.glob(".chunk-*.tmp.npz"):
            p.unlink()  # a killed writer's half-written chunk
        meta = self.folder / _META
        if not meta.exists() or not resume:
            self._clear()
            tmp = meta.with_suffix(".tmp")
            tmp.write_text(json.dumps({"identity": self.identity, "n_chunks": n_chunks}))
            tmp.replace(meta)
            return [], []
        done, notes = [], []
        for i in range(n_chunks):
            if not self.path(i).exists():
                continue
            reason = self.check(i)
            if reason is None:
                done.append(i)
            else:
                notes.append(f"{self.path(i).name} {reason}; recomputed")
                self.path(i).unlink()
        return done, notes

    def _check_owner(self) -> None:
        meta = self.folder / _META
        names = {p.name for p in self.folder.iterdir()}
        ours = {n for n in names if n in (_LOCK, _META, _META.replace(".json", ".tmp"))
                or n.startswith(("chunk-", ".chunk-")) and n.endswith(".npz")}
        if names - ours:
            raise InputError(f"holds files gxsim did not write "
                             f"({sorted(names - ours)[0]}); move them away or choose another "
                             f"-o", source=self.folder)
        if not meta.exists():
            return
        try:
            stored = json.loads(meta.read_text(encoding="utf-8")).get("identity")
        except (OSError, ValueError, AttributeError):
            stored = None
        if stored != self.identity:
            raise InputError(
                f"holds the chunks of another sweep (identity "
                f"{str(stored)[:12] if stored else 'unknown'}…, this sweep "
                f"{self.identity[:12]}…: scenario, sweep definition, profiles or gxsim "
                f"version differ); choose another -o, or remove that folder to drop them",
                source=self.folder)

    def _clear(self) -> None:
        for p in self.folder.glob("chunk-*.npz"):
            p.unlink()

    def check(self, i: int) -> str | None:
        """Why chunk ``i`` cannot be used (None when it is sound)."""
        try:
            self.read(i)
        except InputError as exc:
            return exc.reason
        return None

    def write(self, i: int, data: dict[str, np.ndarray]) -> None:
        """Store chunk ``i`` with the identity and a checksum (all or nothing)."""
        tmp = self.folder / f".chunk-{i:06d}.{os.getpid()}.tmp.npz"
        np.savez(tmp, **pack(data), **{IDENTITY_KEY: np.array(self.identity),
                                       CHECKSUM_KEY: np.array(checksum(data))})
        os.replace(tmp, self.path(i))

    def read(self, i: int) -> dict[str, np.ndarray]:
        """Load chunk ``i``, checked.

        Raises
        ------
        sim.InputError
            Naming the chunk: unreadable (truncated), another sweep's, or its
            checksum does not match.
        """
        path = self.path(i)
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise InputError(f"is unreadable (truncated or corrupt: "
                             f"{exc.__class__.__name__})", source=path) from None
        ident = data.pop(IDENTITY_KEY, None)
        check = data.pop(CHECKSUM_KEY, None)
        if ident is None or str(ident) != self.identity:
            raise InputError("belongs to another sweep", source=path)
        try:
            data = unpack(data)
        except (KeyError, ValueError, TypeError):
            raise InputError("is corrupt (its packed arrays do not match their names)",
                             source=path) from None
        if check is None or str(check) != checksum(data):
            raise InputError("is corrupt (its checksum does not match)", source=path)
        return data

    def discard(self) -> None:
        """Remove the chunks and meta (once the final files are written)."""
        self._clear()
        with contextlib.suppress(FileNotFoundError):
            (self.folder / _META).unlink()
        with contextlib.suppress(OSError):
            self.folder.rmdir()  # still there while locked; removed at release


class MemoryStore(ChunkStore):
    """Chunks kept in memory (a sweep without an output folder)."""

    def __init__(self):
        super().__init__(Path("."), "")
        self.data: dict[int, dict] = {}

    def open(self, n_chunks, *, resume):
        return [], []

    def write(self, i, data):
        self.data[i] = data

    def read(self, i):
        return self.data[i]

    def discard(self):
        self.data.clear()

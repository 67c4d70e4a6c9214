"""Find, download, read, validate and cache MNIST and Fashion-MNIST.

The datasets come as four IDX files each (optionally gzip-compressed)::

    train-images-idx3-ubyte   (60000, 28, 28) uint8
    train-labels-idx1-ubyte   (60000,)        uint8
    t10k-images-idx3-ubyte    (10000, 28, 28) uint8
    t10k-labels-idx1-ubyte    (10000,)        uint8

:func:`load_dataset` looks for them in the places listed by :func:`search_dirs`,
optionally downloads them (:func:`download_dataset`), checks their structure and
returns a :class:`Dataset` with images flattened to ``(n, 784)`` uint8 and labels
as int64. Decoded arrays are cached as ``.npy`` files so that the second load is
fast (well under 0.2 s).

Pure NumPy and the standard library: no printing, no global random state.
Every file this module writes is written atomically (a temporary file in the
same directory, then :func:`os.replace`).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import json
import math
import os
import sys
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Mapping, Sequence

import numpy as np

from .fileio import atomic_open

__all__ = [
    "DATASET_NAMES",
    "FILES",
    "CLASS_NAMES",
    "MIRRORS",
    "SHA256",
    "DatasetNotFoundError",
    "DataFileError",
    "DownloadError",
    "Dataset",
    "read_idx",
    "write_idx",
    "user_data_dir",
    "cache_dir",
    "search_dirs",
    "not_found_error",
    "locate_dataset",
    "download_dataset",
    "verify_dataset",
    "load_dataset",
    "synthetic_dataset",
]

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

DATASET_NAMES: tuple[str, ...] = ("fashion-mnist", "mnist")

FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}

#: Base URLs tried in turn by :func:`download_dataset`; ``<base><file>.gz``.
MIRRORS: dict[str, tuple[str, ...]] = {
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
}

#: SHA-256 of the *decompressed* IDX content, per dataset and file name.
#: Hashing the decompressed bytes makes the check independent of how a mirror
#: (or Debian) compressed the files.
SHA256: dict[str, dict[str, str]] = {
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
}

#: Debian/Ubuntu install location of ``apt-get install dataset-fashion-mnist``.
_SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),),
}

_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# kind + itemsize -> type code, whatever the byte order of the array written.
_IDX_CODES: dict[str, int] = {dt.kind + str(dt.itemsize): code for code, dt in _IDX_DTYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16  # download / hashing chunk size in bytes
_IMAGE_SHAPE = (28, 28)
_CACHE_VERSION = 1
_CACHE_ARRAYS = ("X_train", "y_train", "X_test", "y_test")
_USER_AGENT = "mlp-studio/0.1 (+python-urllib)"

ProgressCallback = Callable[[str, int, "int | None"], None]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's four IDX files were not found in any searched directory.

    Attributes
    ----------
    name : str
        The dataset that was looked for.
    searched : list of pathlib.Path
        Every directory that was searched, in order.
    """

    def __init__(self, message: str, name: str = "", searched: Sequence[Path] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.searched = list(searched)

    def __str__(self) -> str:  # FileNotFoundError would otherwise format errno-style
        return str(self.args[0]) if self.args else ""


class DataFileError(ValueError):
    """A data file is corrupt, truncated, of the wrong kind, or fails its checksum.

    Attributes
    ----------
    path : pathlib.Path or None
        The offending file (it may no longer exist, e.g. a rejected download).
    """

    def __init__(self, message: str, path: "str | os.PathLike[str] | None" = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class DownloadError(OSError):
    """No mirror delivered a file.

    Attributes
    ----------
    attempts : list of (str, str)
        ``(url, reason)`` for every URL tried.
    """

    def __init__(self, message: str, attempts: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.attempts = list(attempts)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class _TransferError(Exception):
    """Internal: one URL failed at the network level (try the next mirror)."""


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _check_name(name: str) -> str:
    if name not in DATASET_NAMES:
        raise ValueError(
            f"Unknown dataset {name!r}. Valid names are: {', '.join(DATASET_NAMES)}."
        )
    return name


def _env_path(var: str) -> Path | None:
    value = os.environ.get(var, "").strip()
    return Path(value).expanduser() if value else None




def _find_file(directory: Path, base: str) -> Path | None:
    """Return ``directory/base.gz`` or ``directory/base``, whichever exists first."""
    for candidate in (directory / (base + ".gz"), directory / base):
        if candidate.is_file():
            return candidate
    return None


# --------------------------------------------------------------------------
# IDX reading and writing
# --------------------------------------------------------------------------


def _read_exact(f, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _readinto_exact(f, buf: memoryview) -> int:
    got, n = 0, len(buf)
    while got < n:
        k = f.readinto(buf[got:])
        if not k:
            break
        got += k
    return got


def _read_idx_stream(f, path: Path, file_size: int | None) -> np.ndarray:
    """Decode an IDX stream; ``file_size`` is known only for uncompressed files."""
    where = "decompressed content" if file_size is None else "file"
    header = _read_exact(f, 4)
    if len(header) < 4:
        raise DataFileError(
            f"{path}: too short to be an IDX file ({where} has {len(header)} bytes, "
            "an IDX header needs at least 4). The file is truncated or empty; "
            "delete it and download it again.",
            path,
        )
    if header[0] != 0 or header[1] != 0:
        raise DataFileError(
            f"{path}: not an IDX file: bad magic number 0x{header.hex()} "
            f"(an IDX file starts with two zero bytes, found 0x{header[0]:02x} 0x{header[1]:02x}). "
            "Check that this is the right file; if it is, it is corrupt: delete it and download it again.",
            path,
        )
    code, ndim = header[2], header[3]
    dtype = _IDX_DTYPES.get(code)
    if dtype is None:
        known = ", ".join(f"0x{c:02x} ({d.name})" for c, d in _IDX_DTYPES.items())
        raise DataFileError(
            f"{path}: unknown IDX data type code 0x{code:02x} in magic number 0x{header.hex()} "
            f"(known codes: {known}). The file is corrupt or not an IDX file.",
            path,
        )
    if ndim == 0:
        raise DataFileError(
            f"{path}: IDX header declares 0 dimensions (magic 0x{header.hex()}); expected at least 1. "
            "The file is corrupt.",
            path,
        )
    dims_raw = _read_exact(f, 4 * ndim)
    header_size = 4 + 4 * ndim
    if len(dims_raw) < 4 * ndim:
        raise DataFileError(
            f"{path}: IDX header truncated: {ndim} dimensions need a {header_size}-byte header, "
            f"but the {where} ends after {4 + len(dims_raw)} bytes. Delete the file and download it again.",
            path,
        )
    dims = tuple(int(d) for d in np.frombuffer(dims_raw, dtype=">u4"))
    count = math.prod(dims)
    nbytes = count * dtype.itemsize
    expected_total = header_size + nbytes
    what = f"{header_size}-byte header + {nbytes} bytes of {dtype.name} data for shape {dims}"

    if file_size is not None and file_size != expected_total:
        if file_size < expected_total:
            problem = f"truncated: expected {expected_total} bytes ({what}), found {file_size}"
        else:
            problem = (
                f"has {file_size - expected_total} trailing bytes: expected {expected_total} bytes "
                f"({what}), found {file_size}"
            )
        raise DataFileError(
            f"{path}: {problem}. The file is damaged or incomplete; delete it and download it again.",
            path,
        )

    try:
        flat = np.empty(count, dtype=dtype)
    except (MemoryError, ValueError) as exc:
        raise DataFileError(
            f"{path}: IDX header declares shape {dims} ({nbytes} bytes), which cannot be allocated "
            f"({exc}). The header is probably corrupt.",
            path,
        ) from None
    got = _readinto_exact(f, memoryview(flat.view(np.uint8)))
    if got < nbytes:
        raise DataFileError(
            f"{path}: truncated: expected {expected_total} bytes of {where} ({what}), "
            f"found {header_size + got}. Delete the file and download it again.",
            path,
        )
    extra = 0
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        extra += len(chunk)
    if extra:
        raise DataFileError(
            f"{path}: {extra} trailing bytes after the data: expected {expected_total} bytes of {where} "
            f"({what}), found {expected_total + extra}. The file is damaged or is not the expected file.",
            path,
        )
    arr = flat.reshape(dims)
    if not dtype.isnative:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def read_idx(path: "str | os.PathLike[str]") -> np.ndarray:
    """Read an IDX file, gzip-compressed or not.

    Compression is detected from the first two bytes (``1f 8b``), not from the
    file name. The whole structure is checked: two leading zero bytes, a known
    type code, the number of dimensions, and that the data size equals
    ``prod(dims) * itemsize`` exactly (no missing and no trailing bytes).

    Parameters
    ----------
    path : str or os.PathLike
        File to read.

    Returns
    -------
    numpy.ndarray
        Native-endian, C-contiguous, writable array of shape ``dims`` (e.g.
        ``(n, 28, 28)`` uint8 for images, ``(n,)`` uint8 for labels).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DataFileError
        If the file is not a valid IDX file (bad magic, unknown type code,
        truncated header or data, trailing bytes, damaged gzip stream). The
        message names the file and says what was expected and what was found.
    """
    path = Path(path)
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None
    except IsADirectoryError:
        raise DataFileError(f"{path}: is a directory, expected an IDX file.", path) from None
    with raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic != _GZIP_MAGIC:
            return _read_idx_stream(raw, path, os.fstat(raw.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                return _read_idx_stream(f, path, None)
        except (EOFError, zlib.error, OSError) as exc:
            raise DataFileError(
                f"{path}: the gzip stream is damaged or truncated ({type(exc).__name__}: {exc}). "
                "Delete the file and download it again.",
                path,
            ) from None


def write_idx(
    path: "str | os.PathLike[str]", array: np.ndarray, gz: bool | None = None
) -> Path:
    """Write ``array`` as an IDX file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination. Its directory must exist.
    array : array_like
        Data of any shape with 1 to 255 dimensions and dtype uint8, int8,
        int16, int32, float32 or float64 (any byte order).
    gz : bool or None, optional
        Compress with gzip. ``None`` (default) compresses if ``path`` ends
        with ``.gz``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If the dtype or the shape cannot be stored in IDX.
    """
    path = Path(path)
    arr = np.asarray(array)
    code = _IDX_CODES.get(arr.dtype.kind + str(arr.dtype.itemsize))
    if code is None:
        raise ValueError(
            f"write_idx({path}): dtype {arr.dtype} cannot be stored in an IDX file; "
            "supported: uint8, int8, int16, int32, float32, float64. Convert first, e.g. array.astype(np.uint8)."
        )
    if not 1 <= arr.ndim <= 255:
        raise ValueError(
            f"write_idx({path}): an IDX file holds 1 to 255 dimensions, got an array with {arr.ndim}."
        )
    if any(d >= 2**32 for d in arr.shape):
        raise ValueError(f"write_idx({path}): every dimension must be < 2**32, got shape {arr.shape}.")
    if gz is None:
        gz = path.name.endswith(".gz")
    header = bytes((0, 0, code, arr.ndim)) + np.asarray(arr.shape, dtype=">u4").tobytes()
    data = np.ascontiguousarray(arr, dtype=_IDX_DTYPES[code]).reshape(-1).view(np.uint8)
    with atomic_open(path) as f:
        if gz:
            with gzip.GzipFile(filename=path.name, mode="wb", fileobj=f, compresslevel=6, mtime=0) as zf:
                zf.write(header)
                zf.write(data)
        else:
            f.write(header)
            f.write(data)
    return path


# --------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------


def user_data_dir() -> Path:
    """Per-user directory where MLP Studio keeps downloaded data and caches.

    Returns
    -------
    pathlib.Path
        ``$XDG_DATA_HOME/mlp-studio`` (or ``~/.local/share/mlp-studio``) on
        Linux and other Unix systems, ``~/Library/Application Support/mlp-studio``
        on macOS, ``%LOCALAPPDATA%/mlp-studio`` on Windows. Not created.
    """
    if sys.platform.startswith("win"):
        base = _env_path("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = _env_path("XDG_DATA_HOME")
        # The XDG spec says relative paths are invalid and must be ignored.
        base = xdg if xdg is not None and xdg.is_absolute() else Path.home() / ".local" / "share"
    return base / "mlp-studio"


def cache_dir(name: str) -> Path:
    """Directory holding the decoded-array cache of dataset ``name``.

    ``$MLP_STUDIO_CACHE/<name>`` if that variable is set, else
    ``user_data_dir()/cache/<name>``. Not created. Deleting it is always safe.
    """
    root = _env_path("MLP_STUDIO_CACHE") or user_data_dir() / "cache"
    return root / name


def search_dirs(name: str, data_dir: "str | os.PathLike[str] | None" = None) -> list[Path]:
    """Directories searched for dataset ``name``, in order of preference.

    Parameters
    ----------
    name : {"fashion-mnist", "mnist"}
        Dataset name.
    data_dir : str or os.PathLike, optional
        Explicit directory (e.g. from ``--data-dir``). Both ``data_dir`` itself
        and ``data_dir/<name>`` are searched, before anything else.

    Returns
    -------
    list of pathlib.Path
        ``data_dir``, ``data_dir/<name>``, ``$MLP_STUDIO_DATA/<name>`` (for
        each entry if the variable holds several, separated by ``os.pathsep``),
        ``user_data_dir()/<name>``, and for fashion-mnist
        ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``).
        Duplicates are removed; directories need not exist.
    """
    _check_name(name)
    dirs: list[Path] = []
    if data_dir is not None and str(data_dir) != "":
        explicit = Path(data_dir).expanduser()
        dirs += [explicit, explicit / name]
    for entry in os.environ.get("MLP_STUDIO_DATA", "").split(os.pathsep):
        if entry.strip():
            dirs.append(Path(entry.strip()).expanduser() / name)
    dirs.append(user_data_dir() / name)
    dirs += _SYSTEM_DIRS.get(name, ())
    seen: set[Path] = set()
    unique = []
    for d in dirs:
        if d not in seen:
            seen.add(d)
            unique.append(d)
    return unique


def _dataset_files(directory: Path) -> dict[str, Path] | None:
    found = {}
    for key, base in FILES.items():
        p = _find_file(directory, base)
        if p is None:
            return None
        found[key] = p
    return found


def locate_dataset(name: str, data_dir: "str | os.PathLike[str] | None" = None) -> Path | None:
    """First directory from :func:`search_dirs` that holds all four files.

    Each file may be gzip-compressed (``<file>.gz``, preferred when both
    exist) or not. Only existence is checked here.

    Returns
    -------
    pathlib.Path or None
        The directory, or ``None`` if no searched directory is complete.
    """
    for d in search_dirs(name, data_dir):
        if d.is_dir() and _dataset_files(d) is not None:
            return d
    return None


def not_found_error(name: str, data_dir=None) -> DatasetNotFoundError:
    """The error :func:`load_dataset` raises when ``name`` is nowhere: every place searched and
    how to fix it (the GUI shows its message without trying to load)."""
    searched = search_dirs(name, data_dir)
    lines = []
    for d in searched:
        if not d.exists():
            state = "does not exist"
        elif not d.is_dir():
            state = "not a directory"
        else:
            missing = [b + "[.gz]" for b in FILES.values() if _find_file(d, b) is None]
            state = "missing " + ", ".join(missing)
        lines.append(f"  - {d}  ({state})")
    fixes = [
        f"  - set MLP_STUDIO_DATA to a directory that contains a '{name}' folder with the files",
        "  - pass --data-dir DIR (data_dir=DIR in Python) pointing at the folder that holds them",
        f"  - download them: `mlp-engine datasets download {name}` (saves to {user_data_dir() / name})",
    ]
    if name == "fashion-mnist":
        fixes.append("  - on Debian/Ubuntu: `apt-get install dataset-fashion-mnist`")
    message = (
        f"Dataset {name!r} not found. Looked for {', '.join(FILES.values())} "
        "(each may be gzip-compressed, ending in .gz) in:\n"
        + "\n".join(lines)
        + "\nTo fix, do one of:\n"
        + "\n".join(fixes)
    )
    return DatasetNotFoundError(message, name=name, searched=searched)


# --------------------------------------------------------------------------
# Checksums and downloading
# --------------------------------------------------------------------------


class _ContentHasher:
    """SHA-256 of the decompressed content of a stream fed chunk by chunk.

    Handles multi-member gzip streams and trailing zero padding (as the
    :mod:`gzip` module does); ``gz=False`` hashes the bytes as they are.
    """

    def __init__(self, gz: bool) -> None:
        self.gz = gz
        self.sha = hashlib.sha256()
        self.size = 0
        self._d = zlib.decompressobj(wbits=31) if gz else None
        self._between = False  # a member ended; self._pending holds what follows
        self._pending = b""

    def feed(self, data: bytes) -> None:
        """Consume the next chunk; raises ``zlib.error`` on invalid data."""
        if not self.gz:
            self.sha.update(data)
            self.size += len(data)
            return
        while data:
            if self._between:
                self._pending = (self._pending + data).lstrip(b"\0")
                data = b""
                if len(self._pending) < 2:
                    return
                if self._pending[:2] != _GZIP_MAGIC:
                    raise zlib.error("unexpected bytes after the end of the gzip stream")
                data, self._pending, self._between = self._pending, b"", False
                self._d = zlib.decompressobj(wbits=31)
            out = self._d.decompress(data)
            self.sha.update(out)
            self.size += len(out)
            data = b""
            if self._d.eof:
                self._between = True
                data = self._d.unused_data
                if not data:
                    return

    def hexdigest(self) -> str:
        """Finish and return the hex digest.

        Raises ``EOFError`` if the gzip stream ended early, ``zlib.error`` if
        unexpected bytes follow it.
        """
        if self.gz:
            if not self._between:
                raise EOFError("the compressed stream ends before its end-of-stream marker (truncated)")
            if self._pending:
                raise zlib.error("unexpected bytes after the end of the gzip stream")
        return self.sha.hexdigest()


def _content_sha256(path: Path) -> str:
    """SHA-256 of a file's content, decompressed if it is gzip (detected by magic)."""
    with open(path, "rb") as f:
        hasher = _ContentHasher(gz=f.read(2) == _GZIP_MAGIC)
        f.seek(0)
        try:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                hasher.feed(chunk)
            return hasher.hexdigest()
        except (EOFError, zlib.error) as exc:
            raise DataFileError(
                f"{path}: the gzip stream is damaged or truncated ({exc}). Delete the file and download it again.",
                path,
            ) from None


def _expected_checksums(name: str, checksums: Mapping[str, str] | None) -> dict[str, str]:
    if checksums is None:
        return dict(SHA256[name])
    table = {}
    for key, base in FILES.items():
        for k in (base, base + ".gz", key):
            if k in checksums:
                table[base] = str(checksums[k]).lower()
                break
        else:
            raise ValueError(
                f"checksums override has no entry for {base!r}; give a SHA-256 (of the decompressed "
                f"content) for each of: {', '.join(FILES.values())}."
            )
    return table


def _fetch_one(
    url: str,
    out,
    file_name: str,
    expected_sha: str,
    progress: ProgressCallback | None,
    timeout: float,
    target: Path,
) -> None:
    """Stream ``url`` into ``out`` while verifying the decompressed SHA-256."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _TransferError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise _TransferError(str(exc.reason)) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _TransferError(f"{type(exc).__name__}: {exc}") from None
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        hasher = _ContentHasher(gz=True)
        done = 0
        if progress is not None:
            progress(file_name, 0, total)
        while True:
            try:
                chunk = response.read(_CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise _TransferError(
                    f"connection failed after {done} bytes ({type(exc).__name__}: {exc})"
                ) from None
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            try:
                hasher.feed(chunk)
            except zlib.error as exc:
                raise DataFileError(
                    f"{url}: the downloaded {file_name} is not a valid gzip stream ({exc}); "
                    "the server may have sent an error page or a damaged file.",
                    target,
                ) from None
            if progress is not None:
                progress(file_name, done, total)
    if total is not None and done != total:
        raise _TransferError(f"connection closed after {done} of {total} bytes")
    try:
        digest = hasher.hexdigest()
    except (EOFError, zlib.error) as exc:
        raise DataFileError(
            f"{url}: the downloaded {file_name} is truncated or damaged ({done} bytes received: {exc}).",
            target,
        ) from None
    if digest != expected_sha:
        raise DataFileError(
            f"{url}: checksum mismatch for {file_name}: SHA-256 of the decompressed content is "
            f"{digest}, expected {expected_sha}. The mirror served a different or damaged file.",
            target,
        )


def download_dataset(
    name: str,
    dest: "str | os.PathLike[str] | None" = None,
    progress: ProgressCallback | None = None,
    mirrors: Sequence[str] | str | None = None,
    timeout: float = 30,
    checksums: Mapping[str, str] | None = None,
) -> Path:
    """Download the four ``.gz`` files of a dataset and verify them.

    Each file is fetched from the first mirror that delivers it intact, its
    decompressed content is checked against the SHA-256 table, and only then
    is it moved into ``dest`` (atomically). A failed or interrupted download
    leaves neither the file nor a temporary file behind. Files already in
    ``dest`` whose content matches the checksum are not downloaded again.

    Parameters
    ----------
    name : {"fashion-mnist", "mnist"}
        Dataset to download.
    dest : str or os.PathLike, optional
        Target directory, created if needed. Default ``user_data_dir()/<name>``.
    progress : callable, optional
        ``progress(file_name, bytes_done, bytes_total)`` is called when a file
        starts and after every received chunk; ``file_name`` is e.g.
        ``"train-images-idx3-ubyte.gz"``, ``bytes_total`` is ``None`` when the
        server does not send a length. An exception raised by the callback
        aborts the download (and removes the partial file), which makes it a
        cancel mechanism.
    mirrors : sequence of str, optional
        Base URLs to try in order instead of :data:`MIRRORS` ``[name]``; the
        file URL is ``base + file_name``.
    timeout : float, optional
        Socket timeout in seconds for each connection.
    checksums : mapping, optional
        ``{file: sha256}`` overriding :data:`SHA256` ``[name]`` (SHA-256 of the
        decompressed content; keys may be file names with or without ``.gz``
        or :data:`FILES` keys). Meant for tests.

    Returns
    -------
    pathlib.Path
        ``dest``, now holding the four ``.gz`` files.

    Raises
    ------
    ValueError
        Unknown dataset name, empty mirror list, incomplete ``checksums``.
    DataFileError
        A mirror delivered a damaged file (checksum mismatch, truncated or
        invalid gzip) and no other mirror delivered a good one.
    DownloadError
        No mirror could be reached or delivered the file; the message lists
        every URL tried and why it failed.
    """
    _check_name(name)
    expected = _expected_checksums(name, checksums)
    if mirrors is None:
        mirrors = MIRRORS[name]
    elif isinstance(mirrors, str):
        mirrors = [mirrors]
    mirrors = [str(m) for m in mirrors]
    if not mirrors:
        raise ValueError("download_dataset: the mirror list is empty; give at least one base URL.")
    dest = Path(dest).expanduser() if dest is not None else user_data_dir() / name
    dest.mkdir(parents=True, exist_ok=True)

    for base in FILES.values():
        file_name = base + ".gz"
        target = dest / file_name
        if target.is_file():
            try:
                if _content_sha256(target) == expected[base]:
                    size = target.stat().st_size
                    if progress is not None:
                        progress(file_name, size, size)
                    continue
            except (OSError, DataFileError):
                pass  # damaged or unreadable: download it again
        attempts: list[tuple[str, str]] = []
        data_errors: list[DataFileError] = []
        for mirror in mirrors:
            url = mirror if mirror.endswith("/") else mirror + "/"
            url += file_name
            try:
                with atomic_open(target) as out:
                    _fetch_one(url, out, file_name, expected[base], progress, timeout, target)
            except _TransferError as exc:
                attempts.append((url, str(exc)))
                continue
            except DataFileError as exc:
                attempts.append((url, str(exc)))
                data_errors.append(exc)
                continue
            break
        else:
            tried = "\n".join(f"  - {u}: {why}" for u, why in attempts)
            if data_errors:
                raise DataFileError(
                    f"Could not get a valid {file_name} for {name!r}; nothing was saved in {dest}. "
                    f"URLs tried:\n{tried}\nTry again later, or pass other mirrors.",
                    target,
                )
            raise DownloadError(
                f"Could not download {file_name} for {name!r}: no mirror answered. URLs tried:\n{tried}\n"
                f"Check the internet connection (and proxy settings such as https_proxy), or put the four "
                f"files ({', '.join(FILES.values())}, .gz or not) into {dest} by hand"
                + (", or `apt-get install dataset-fashion-mnist`." if name == "fashion-mnist" else "."),
                attempts,
            )
    return dest


def verify_dataset(name: str, data_dir: "str | os.PathLike[str] | None" = None) -> Path:
    """Check the SHA-256 of a located dataset's decompressed files (slow: ~1 s).

    :func:`load_dataset` does not do this (it only checks structure); this is
    for an explicit "verify" command.

    Returns
    -------
    pathlib.Path
        The verified directory.

    Raises
    ------
    DatasetNotFoundError
        If the dataset is not found.
    DataFileError
        If a file is damaged or its content differs from the official one.
    """
    _check_name(name)
    directory = locate_dataset(name, data_dir)
    if directory is None:
        raise not_found_error(name, data_dir)
    files = _dataset_files(directory)
    if files is None:  # vanished since locate_dataset
        raise not_found_error(name, data_dir)
    for key, path in files.items():
        want = SHA256[name][FILES[key]]
        got = _content_sha256(path)
        if got != want:
            raise DataFileError(
                f"{path}: checksum mismatch: SHA-256 of the decompressed content is {got}, expected {want} "
                f"(official {name}). Delete it and run `mlp-engine datasets download {name}`.",
                path,
            )
    return directory


# --------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """An image classification dataset split into train and test parts.

    Attributes
    ----------
    name : str
        ``"mnist"``, ``"fashion-mnist"`` or e.g. ``"synthetic"``.
    X_train : numpy.ndarray, shape (n_train, 784), uint8
        Training images, one flattened 28x28 image per row, C-contiguous.
    y_train : numpy.ndarray, shape (n_train,), int64
        Training labels in ``[0, n_classes)``.
    X_test : numpy.ndarray, shape (n_test, 784), uint8
        Test images.
    y_test : numpy.ndarray, shape (n_test,), int64
        Test labels.
    class_names : tuple of str
        Human-readable name of each class, indexed by label.
    source : pathlib.Path or None
        Directory the IDX files were read from; ``None`` for generated data.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: Path | None = None

    #: Height and width of one image.
    image_shape: ClassVar[tuple[int, int]] = _IMAGE_SHAPE

    def __post_init__(self) -> None:
        for split, X, y in (("train", self.X_train, self.y_train), ("test", self.X_test, self.y_test)):
            if len(X) != len(y):
                raise ValueError(
                    f"Dataset {self.name!r}: {split} split has {len(X)} images but {len(y)} labels."
                )

    @property
    def n_classes(self) -> int:
        """Number of classes, ``len(class_names)``."""
        return len(self.class_names)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, X_train={self.X_train.shape} {self.X_train.dtype}, "
            f"X_test={self.X_test.shape} {self.X_test.dtype}, n_classes={self.n_classes}, "
            f"source={str(self.source) if self.source is not None else None!r})"
        )


# --------------------------------------------------------------------------
# Loading with cache
# --------------------------------------------------------------------------


def _fingerprint(files: Mapping[str, Path]) -> str:
    items = []
    for key in FILES:
        p = files[key]
        st = p.stat()
        items.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
    blob = json.dumps({"version": _CACHE_VERSION, "files": items}).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _source_key(directory: Path) -> str:
    return hashlib.sha256(os.path.abspath(directory).encode()).hexdigest()[:16]


def _valid_arrays(arrays: Mapping[str, np.ndarray], n_classes: int) -> bool:
    for split in ("train", "test"):
        X, y = arrays["X_" + split], arrays["y_" + split]
        if X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != _IMAGE_SHAPE[0] * _IMAGE_SHAPE[1]:
            return False
        if y.dtype != np.int64 or y.ndim != 1 or len(y) != len(X):
            return False
        if len(y) and (y.min() < 0 or y.max() >= n_classes):
            return False
    return True


def _cache_load(cdir: Path, prefix: str, n_classes: int) -> dict[str, np.ndarray] | None:
    try:
        arrays = {}
        for key in _CACHE_ARRAYS:
            arr = np.load(cdir / f"{prefix}.{key}.npy", allow_pickle=False)
            arrays[key] = np.ascontiguousarray(arr)
        return arrays if _valid_arrays(arrays, n_classes) else None
    except Exception:  # noqa: BLE001 - a bad cache is never an error; rebuild it
        return None


def _cache_store(cdir: Path, prefix: str, source_key: str, arrays: Mapping[str, np.ndarray]) -> None:
    try:
        cdir.mkdir(parents=True, exist_ok=True)
        for key in _CACHE_ARRAYS:
            with atomic_open(cdir / f"{prefix}.{key}.npy") as f:
                np.save(f, arrays[key], allow_pickle=False)
        # Drop stale entries for the same source directory (files changed since).
        for old in cdir.glob(f"{source_key}-*.npy"):
            if not old.name.startswith(prefix + "."):
                with contextlib.suppress(OSError):
                    old.unlink()
    except OSError:
        pass  # read-only or full disk: work without a cache


def _read_split(images_path: Path, labels_path: Path, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != _IMAGE_SHAPE:
        raise DataFileError(
            f"{images_path}: expected images of shape (n, 28, 28) and dtype uint8, found shape "
            f"{images.shape} and dtype {images.dtype}. Is this the right file?",
            images_path,
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFileError(
            f"{labels_path}: expected labels of shape (n,) and dtype uint8, found shape "
            f"{labels.shape} and dtype {labels.dtype}. Is this the right file?",
            labels_path,
        )
    if len(images) != len(labels):
        raise DataFileError(
            f"Image and label counts differ: {images_path} holds {len(images)} images but "
            f"{labels_path} holds {len(labels)} labels. The files do not belong together; "
            "replace them with a matching set.",
            labels_path,
        )
    if len(labels) and int(labels.max()) >= n_classes:
        bad = int(np.argmax(labels >= n_classes))
        raise DataFileError(
            f"{labels_path}: label {int(labels[bad])} at index {bad} is out of range: this dataset "
            f"has {n_classes} classes (labels 0..{n_classes - 1}).",
            labels_path,
        )
    X = np.ascontiguousarray(images.reshape(len(images), -1))
    return X, labels.astype(np.int64)


def load_dataset(
    name: str,
    data_dir: "str | os.PathLike[str] | None" = None,
    download: bool = False,
    progress: ProgressCallback | None = None,
    cache: bool = True,
) -> Dataset:
    """Find and load MNIST or Fashion-MNIST.

    Parameters
    ----------
    name : {"fashion-mnist", "mnist"}
        Dataset name.
    data_dir : str or os.PathLike, optional
        Directory to search first (it or its ``<name>`` subfolder); see
        :func:`search_dirs` for the full search order.
    download : bool, optional
        If the dataset is not found, download it into ``user_data_dir()/<name>``
        (verifying checksums) instead of raising.
    progress : callable, optional
        Download progress callback, see :func:`download_dataset`.
    cache : bool, optional
        Use and refresh the decoded-array cache in :func:`cache_dir`. The cache
        is keyed by the absolute path, size and mtime of each source file, so
        replacing a file invalidates it. A damaged cache is silently rebuilt.

    Returns
    -------
    Dataset
        ``X_train`` (n_train, 784) uint8, ``y_train`` (n_train,) int64,
        ``X_test`` (n_test, 784) uint8, ``y_test`` (n_test,) int64, all
        C-contiguous.

    Raises
    ------
    ValueError
        Unknown dataset name (the message lists the valid ones).
    DatasetNotFoundError
        Not found and ``download`` is false; the message lists every directory
        searched and how to fix it.
    DataFileError
        A file is damaged, has the wrong shape or dtype, labels are out of
        range, or image and label counts differ.
    DownloadError
        ``download`` is true and no mirror could be reached.

    Notes
    -----
    Local files are only checked for structure, not hashed (hashing on every
    start would be slow); use :func:`verify_dataset` for a full check.
    """
    _check_name(name)
    class_names = CLASS_NAMES[name]
    directory = locate_dataset(name, data_dir)
    if directory is None:
        if not download:
            raise not_found_error(name, data_dir)
        directory = download_dataset(name, progress=progress)
    files = _dataset_files(directory)
    if files is None:  # vanished between locating and reading
        raise not_found_error(name, data_dir)

    arrays = None
    if cache:
        cdir = cache_dir(name)
        try:
            source_key = _source_key(directory)
            prefix = f"{source_key}-{_fingerprint(files)}"
        except OSError:
            cache = False
        else:
            arrays = _cache_load(cdir, prefix, len(class_names))
    if arrays is None:
        X_train, y_train = _read_split(files["train_images"], files["train_labels"], len(class_names))
        X_test, y_test = _read_split(files["test_images"], files["test_labels"], len(class_names))
        arrays = {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test}
        if cache:
            _cache_store(cdir, prefix, source_key, arrays)
    return Dataset(
        name=name,
        X_train=arrays["X_train"],
        y_train=arrays["y_train"],
        X_test=arrays["X_test"],
        y_test=arrays["y_test"],
        class_names=class_names,
        source=directory,
    )


# --------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------


def synthetic_dataset(
    n_train: int = 256,
    n_test: int = 64,
    n_classes: int = 10,
    seed: int = 0,
    name: str = "synthetic",
) -> Dataset:
    """A small, easily learnable stand-in for MNIST, for tests and demos.

    Each class has its own pattern of two Gaussian blobs on a 28x28 canvas
    (one on a circle at an angle set by the class, one at a random place).
    Every image is its class pattern with random brightness, a shift of up to
    one pixel in each direction, and Gaussian noise. Classes are balanced.

    Parameters
    ----------
    n_train, n_test : int
        Number of training (>= 1) and test (>= 0) images.
    n_classes : int
        Number of classes (>= 2).
    seed : int
        Seed for ``numpy.random.default_rng``; equal seeds give equal data.
    name : str
        Value of :attr:`Dataset.name`.

    Returns
    -------
    Dataset
        ``X_*`` (n, 784) uint8, ``y_*`` (n,) int64, ``class_names`` ``("0", "1", ...)``,
        ``source`` None.
    """
    for label, value, low in (("n_train", n_train, 1), ("n_test", n_test, 0), ("n_classes", n_classes, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"synthetic_dataset: {label} must be an integer >= {low}, got {value!r}.")
    rng = np.random.default_rng(seed)
    h, w = _IMAGE_SHAPE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)

    def blob(cy: float, cx: float, sigma: float) -> np.ndarray:
        return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2.0 * sigma**2))

    templates = np.empty((n_classes, h, w))
    for k in range(n_classes):
        angle = 2.0 * np.pi * k / n_classes
        cy, cx = rng.uniform(6.0, 22.0, size=2)
        t = blob(14.0 + 8.0 * np.sin(angle), 14.0 + 8.0 * np.cos(angle), 2.5) + 0.7 * blob(cy, cx, 2.0)
        templates[k] = t / t.max()

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n, dtype=np.int64) % n_classes
        rng.shuffle(y)
        imgs = templates[y] * rng.uniform(170.0, 255.0, size=(n, 1, 1))
        shifts = rng.integers(-1, 2, size=(n, 2))
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dy == 0 and dx == 0:
                    continue
                sel = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
                if sel.any():
                    imgs[sel] = np.roll(imgs[sel], (dy, dx), axis=(1, 2))
        imgs += rng.normal(0.0, 12.0, size=imgs.shape)
        X = np.clip(np.rint(imgs), 0, 255).astype(np.uint8).reshape(n, h * w)
        return np.ascontiguousarray(X), y

    X_train, y_train = make(int(n_train))
    X_test, y_test = make(int(n_test))
    return Dataset(
        name=name,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        class_names=tuple(str(i) for i in range(n_classes)),
        source=None,
    )

"""Tests for mlp_engine.data: IDX I/O, locating, loading, caching, downloading."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from mlp_engine import data
from mlp_engine.data import (
    CLASS_NAMES,
    DATASET_NAMES,
    FILES,
    DataFileError,
    Dataset,
    DatasetNotFoundError,
    DownloadError,
    download_dataset,
    load_dataset,
    locate_dataset,
    read_idx,
    search_dirs,
    synthetic_dataset,
    user_data_dir,
    write_idx,
)

# Captured before the autouse fixture below hides it from every test.
_REAL_DATA = os.environ.get("MLP_STUDIO_DATA", "")


# Every user/data/cache location points into tmp_path (fixture in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("isolated_env")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def write_dataset_files(directory: Path, n_train=24, n_test=8, gz=True, seed=0) -> Dataset:
    """Write a tiny synthetic dataset as the four IDX files; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    ds = synthetic_dataset(n_train=n_train, n_test=n_test, seed=seed)
    arrays = {
        "train_images": ds.X_train.reshape(-1, 28, 28),
        "train_labels": ds.y_train.astype(np.uint8),
        "test_images": ds.X_test.reshape(-1, 28, 28),
        "test_labels": ds.y_test.astype(np.uint8),
    }
    for key, arr in arrays.items():
        write_idx(directory / (FILES[key] + (".gz" if gz else "")), arr)
    return ds


def assert_same_data(a: Dataset, b: Dataset) -> None:
    for attr in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))


def idx_bytes(arr: np.ndarray, tmp: Path) -> bytes:
    p = tmp / "scratch.idx"
    write_idx(p, arr, gz=False)
    return p.read_bytes()


# --------------------------------------------------------------------------
# read_idx / write_idx
# --------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "arr",
    [
        np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
        np.array([5, 0, 4, 1, 9, 255], dtype=np.uint8),
        np.array([-128, 0, 127], dtype=np.int8),
        np.array([[-3000, 2], [7, 32000]], dtype=np.int16),
        np.array([-(2**31), 2**31 - 1], dtype=np.int32),
        np.array([[1.5, -2.25]], dtype=np.float32),
        np.array([np.pi, -1e300], dtype=np.float64),
    ],
    ids=["u8-3d", "u8-1d", "i8", "i16", "i32", "f32", "f64"],
)
def test_idx_round_trip(tmp_path, arr, gz):
    work = tmp_path / "w"
    work.mkdir()
    path = work / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    out = read_idx(path)
    assert out.shape == arr.shape
    assert out.dtype == arr.dtype and out.dtype.isnative
    assert out.flags.c_contiguous and out.flags.writeable
    np.testing.assert_array_equal(out, arr)
    assert [p.name for p in work.iterdir()] == [path.name]  # no temp file left


def test_idx_header_is_big_endian_standard(tmp_path):
    arr = np.zeros((3, 28, 28), dtype=np.uint8)
    raw = idx_bytes(arr, tmp_path)
    assert raw[:4] == b"\x00\x00\x08\x03"
    assert raw[4:16] == (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    assert len(raw) == 16 + arr.size
    raw16 = idx_bytes(np.array([1], dtype="<i2"), tmp_path)
    assert raw16 == b"\x00\x00\x0b\x01" + b"\x00\x00\x00\x01" + b"\x00\x01"


def test_gzip_detected_by_content_not_extension(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    compressed_plain_name = write_idx(tmp_path / "labels-idx1-ubyte", arr, gz=True)
    plain_gz_name = write_idx(tmp_path / "labels2-idx1-ubyte.gz", arr, gz=False)
    np.testing.assert_array_equal(read_idx(compressed_plain_name), arr)
    np.testing.assert_array_equal(read_idx(plain_gz_name), arr)


def _corrupt_cases():
    good_header = b"\x00\x00\x08\x01" + (10).to_bytes(4, "big")
    payload = bytes(range(10))
    valid = good_header + payload
    big = b"\x00\x00\x08\x01" + (4096).to_bytes(4, "big") + np.random.default_rng(0).bytes(4096)
    return {
        "nonzero-leading-bytes": (b"\x01\x00\x08\x01" + (10).to_bytes(4, "big") + payload, "magic"),
        "unknown-type-code": (b"\x00\x00\x0a\x01" + (10).to_bytes(4, "big") + payload, "type code"),
        "zero-dims": (b"\x00\x00\x08\x00", "0 dimensions"),
        "truncated-header": (b"\x00\x00\x08\x03" + (10).to_bytes(4, "big"), "header truncated"),
        "empty": (b"", "too short"),
        "truncated-payload": (valid[:-1], "truncated"),
        "trailing-bytes": (valid + b"\x00", "trailing"),
        "truncated-gzip": (gzip.compress(valid + bytes(500))[:-12], "gzip"),
        "truncated-gzip-half": (gzip.compress(big)[: len(gzip.compress(big)) // 2], "gzip"),
        "gzip-of-truncated-payload": (gzip.compress(valid[:-3]), "truncated"),
        "gzip-with-trailing-bytes": (gzip.compress(valid + b"\x07\x07"), "trailing"),
        "gzip-bad-crc": (gzip.compress(valid)[:-8] + b"\x00\x00\x00\x00" + gzip.compress(valid)[-4:], "gzip"),
    }


@pytest.mark.parametrize("case", list(_corrupt_cases()))
def test_read_idx_rejects_corrupt_files(tmp_path, case):
    content, phrase = _corrupt_cases()[case]
    path = tmp_path / f"broken-{case}-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    message = str(info.value)
    assert path.name in message
    assert phrase in message
    assert info.value.path == path
    assert isinstance(info.value, ValueError)


def test_read_idx_reports_expected_and_found_sizes(tmp_path):
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x08\x03" + b"".join(d.to_bytes(4, "big") for d in (2, 28, 28)) + bytes(100))
    with pytest.raises(DataFileError, match=r"expected 1584 bytes .*found 116"):
        read_idx(path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope-idx1-ubyte"):
        read_idx(tmp_path / "nope-idx1-ubyte")


@pytest.mark.parametrize(
    "arr", [np.arange(3, dtype=np.int64), np.ones(3, dtype=bool), np.float64(1.0)], ids=["i64", "bool", "0d"]
)
def test_write_idx_rejects_unstorable_arrays(tmp_path, arr):
    work = tmp_path / "w"
    work.mkdir()
    with pytest.raises(ValueError, match="write_idx"):
        write_idx(work / "x.idx", arr)
    assert list(work.iterdir()) == []


# --------------------------------------------------------------------------
# locations
# --------------------------------------------------------------------------


def test_user_data_dir_linux(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    assert user_data_dir() == tmp_path / "xdg" / "mlp-studio"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert user_data_dir() == tmp_path / "home" / ".local" / "share" / "mlp-studio"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # invalid per the XDG spec: ignored
    assert user_data_dir() == tmp_path / "home" / ".local" / "share" / "mlp-studio"


def test_user_data_dir_macos_and_windows(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert user_data_dir() == tmp_path / "home" / "Library" / "Application Support" / "mlp-studio"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert user_data_dir() == tmp_path / "local" / "mlp-studio"


def test_search_dirs_order(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_STUDIO_DATA", str(tmp_path / "env"))
    user = tmp_path / "xdg" / "mlp-studio"
    assert search_dirs("mnist", tmp_path / "explicit") == [
        tmp_path / "explicit",
        tmp_path / "explicit" / "mnist",
        tmp_path / "env" / "mnist",
        user / "mnist",
    ]
    assert search_dirs("mnist") == [tmp_path / "env" / "mnist", user / "mnist"]
    assert search_dirs("fashion-mnist")[-1] == Path("/usr/share/datasets/fashion-mnist")
    with pytest.raises(ValueError, match="fashion-mnist, mnist"):
        search_dirs("cifar10")


def test_load_search_order_explicit_beats_env_beats_user(tmp_path, monkeypatch):
    explicit = write_dataset_files(tmp_path / "explicit", n_train=10, seed=1)
    env = write_dataset_files(tmp_path / "env" / "mnist", n_train=11, seed=2)
    user = write_dataset_files(tmp_path / "xdg" / "mlp-studio" / "mnist", n_train=12, seed=3)
    monkeypatch.setenv("MLP_STUDIO_DATA", str(tmp_path / "env"))

    ds = load_dataset("mnist", data_dir=tmp_path / "explicit")
    assert ds.source == tmp_path / "explicit"
    assert_same_data(ds, explicit)
    # data_dir may also be the parent holding a <name> folder
    assert load_dataset("mnist", data_dir=tmp_path / "env").source == tmp_path / "env" / "mnist"

    ds = load_dataset("mnist")
    assert ds.source == tmp_path / "env" / "mnist"
    assert_same_data(ds, env)

    monkeypatch.delenv("MLP_STUDIO_DATA")
    ds = load_dataset("mnist")
    assert ds.source == tmp_path / "xdg" / "mlp-studio" / "mnist"
    assert_same_data(ds, user)


def test_locate_needs_all_four_files(tmp_path):
    d = tmp_path / "partial"
    write_dataset_files(d)
    (d / (FILES["test_labels"] + ".gz")).unlink()
    assert locate_dataset("mnist", d) is None
    write_idx(d / FILES["test_labels"], np.zeros(8, dtype=np.uint8))  # uncompressed is fine
    assert locate_dataset("mnist", d) == d


# --------------------------------------------------------------------------
# load_dataset
# --------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "uncompressed"])
def test_load_dataset_shapes_and_dtypes(tmp_path, gz):
    src = write_dataset_files(tmp_path / "d", n_train=24, n_test=8, gz=gz)
    ds = load_dataset("fashion-mnist", data_dir=tmp_path / "d")
    assert ds.name == "fashion-mnist"
    assert ds.X_train.shape == (24, 784) and ds.X_train.dtype == np.uint8
    assert ds.X_test.shape == (8, 784) and ds.X_test.dtype == np.uint8
    assert ds.y_train.shape == (24,) and ds.y_train.dtype == np.int64
    assert ds.y_test.shape == (8,) and ds.y_test.dtype == np.int64
    for arr in (ds.X_train, ds.y_train, ds.X_test, ds.y_test):
        assert arr.flags.c_contiguous
    assert ds.class_names == CLASS_NAMES["fashion-mnist"] and ds.n_classes == 10
    assert ds.image_shape == (28, 28)
    assert ds.source == tmp_path / "d"
    assert_same_data(ds, src)
    assert "X_train=(24, 784)" in repr(ds)


def test_load_dataset_count_mismatch(tmp_path):
    d = tmp_path / "d"
    write_dataset_files(d, n_train=24)
    write_idx(d / (FILES["train_labels"] + ".gz"), np.zeros(23, dtype=np.uint8))
    with pytest.raises(ValueError) as info:
        load_dataset("mnist", data_dir=d, cache=False)
    msg = str(info.value)
    assert FILES["train_images"] in msg and FILES["train_labels"] in msg
    assert "24" in msg and "23" in msg


def test_load_dataset_rejects_wrong_image_shape_and_bad_labels(tmp_path):
    d = tmp_path / "d"
    write_dataset_files(d, n_train=4)
    write_idx(d / (FILES["train_images"] + ".gz"), np.zeros((4, 28, 27), dtype=np.uint8))
    with pytest.raises(DataFileError, match=r"train-images-idx3-ubyte.*\(n, 28, 28\)"):
        load_dataset("mnist", data_dir=d, cache=False)
    write_idx(d / (FILES["train_images"] + ".gz"), np.zeros((4, 28, 28), dtype=np.uint8))
    write_idx(d / (FILES["train_labels"] + ".gz"), np.array([0, 1, 10, 2], dtype=np.uint8))
    with pytest.raises(DataFileError, match=r"train-labels-idx1-ubyte\.gz: label 10 at index 2"):
        load_dataset("mnist", data_dir=d, cache=False)


def test_load_dataset_not_found_lists_searched_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_STUDIO_DATA", str(tmp_path / "env"))
    (tmp_path / "explicit").mkdir()
    write_idx(tmp_path / "explicit" / FILES["train_images"], np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist", data_dir=tmp_path / "explicit")
    err = info.value
    assert isinstance(err, FileNotFoundError)
    msg = str(err)
    for d in search_dirs("mnist", tmp_path / "explicit"):
        assert str(d) in msg
    assert err.searched == search_dirs("mnist", tmp_path / "explicit")
    assert "does not exist" in msg and "missing" in msg
    assert "MLP_STUDIO_DATA" in msg and "--data-dir" in msg
    assert "mlp-engine datasets download mnist" in msg


def test_fashion_not_found_mentions_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_SYSTEM_DIRS", {"fashion-mnist": (tmp_path / "usr-share",)})
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist")


def test_load_dataset_unknown_name():
    with pytest.raises(ValueError, match="'cifar10'.*fashion-mnist, mnist"):
        load_dataset("cifar10")


# --------------------------------------------------------------------------
# cache
# --------------------------------------------------------------------------


def _cache_files(tmp_path, name="mnist"):
    return sorted((tmp_path / "cache" / name).glob("*.npy"))


def _no_reading(path):
    raise AssertionError(f"read_idx({path}) called although the cache should be used")


def test_second_load_uses_cache(tmp_path, monkeypatch):
    write_dataset_files(tmp_path / "d")
    first = load_dataset("mnist", data_dir=tmp_path / "d")
    assert len(_cache_files(tmp_path)) == 4
    monkeypatch.setattr(data, "read_idx", _no_reading)
    second = load_dataset("mnist", data_dir=tmp_path / "d")
    assert_same_data(first, second)
    for arr in (second.X_train, second.y_train, second.X_test, second.y_test):
        assert arr.flags.c_contiguous
    assert second.y_train.dtype == np.int64 and second.source == tmp_path / "d"
    with pytest.raises(AssertionError, match="cache should be used"):
        load_dataset("mnist", data_dir=tmp_path / "d", cache=False)


def test_cache_invalidated_when_source_changes(tmp_path):
    d = tmp_path / "d"
    write_dataset_files(d, n_train=10, seed=1)
    load_dataset("mnist", data_dir=d)
    old = _cache_files(tmp_path)
    new_src = write_dataset_files(d, n_train=12, seed=2)
    for p in d.iterdir():  # make sure mtimes differ even on coarse clocks
        os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    ds = load_dataset("mnist", data_dir=d)
    assert_same_data(ds, new_src)
    new = _cache_files(tmp_path)
    assert len(new) == 4 and set(new).isdisjoint(old)  # stale entry replaced, not accumulated


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong-dtype"])
def test_corrupt_cache_is_rebuilt(tmp_path, damage):
    write_dataset_files(tmp_path / "d")
    first = load_dataset("mnist", data_dir=tmp_path / "d")
    x_file = next(p for p in _cache_files(tmp_path) if p.name.endswith(".X_train.npy"))
    if damage == "garbage":
        x_file.write_bytes(b"this is not a npy file")
    elif damage == "truncated":
        x_file.write_bytes(x_file.read_bytes()[:-100])
    else:
        np.save(x_file, first.X_train.astype(np.float32))
    second = load_dataset("mnist", data_dir=tmp_path / "d")
    assert_same_data(first, second)
    rebuilt = np.load(x_file)
    assert rebuilt.dtype == np.uint8
    np.testing.assert_array_equal(rebuilt, first.X_train)


def test_unwritable_cache_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("MLP_STUDIO_CACHE", str(blocker))
    src = write_dataset_files(tmp_path / "d")
    assert_same_data(load_dataset("mnist", data_dir=tmp_path / "d"), src)


# --------------------------------------------------------------------------
# synthetic data and Dataset
# --------------------------------------------------------------------------


def test_synthetic_dataset_shapes_and_determinism():
    ds = synthetic_dataset()
    assert ds.X_train.shape == (256, 784) and ds.X_train.dtype == np.uint8
    assert ds.X_test.shape == (64, 784) and ds.y_test.dtype == np.int64
    assert ds.class_names == tuple(str(i) for i in range(10)) and ds.n_classes == 10
    assert ds.source is None and ds.name == "synthetic"
    counts = np.bincount(ds.y_train, minlength=10)
    assert counts.min() >= 25 and counts.max() <= 26
    assert_same_data(ds, synthetic_dataset())
    assert not np.array_equal(ds.X_train, synthetic_dataset(seed=1).X_train)
    small = synthetic_dataset(n_train=30, n_test=0, n_classes=3, name="tiny")
    assert small.X_test.shape == (0, 784) and set(small.y_train) == {0, 1, 2} and small.name == "tiny"


def test_synthetic_dataset_is_learnable():
    ds = synthetic_dataset(n_train=300, n_test=200, seed=4)
    X, Xt = ds.X_train.astype(np.float64), ds.X_test.astype(np.float64)
    centroids = np.stack([X[ds.y_train == k].mean(axis=0) for k in range(10)])
    pred = np.argmin(((Xt[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (pred == ds.y_test).mean() > 0.9


@pytest.mark.parametrize("kwargs", [{"n_train": 0}, {"n_test": -1}, {"n_classes": 1}, {"n_train": 2.5}])
def test_synthetic_dataset_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        synthetic_dataset(**kwargs)


def test_dataset_checks_lengths_and_is_frozen():
    ds = synthetic_dataset(n_train=4, n_test=2)
    with pytest.raises(ValueError, match="train split has 4 images but 3 labels"):
        Dataset("x", ds.X_train, ds.y_train[:3], ds.X_test, ds.y_test, ds.class_names)
    with pytest.raises(AttributeError):
        ds.name = "other"


# --------------------------------------------------------------------------
# download (against a local HTTP server)
# --------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - keep test output clean
        pass


@pytest.fixture
def http_root(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yields (base_url, root_dir)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def publish(directory: Path, seed=0, n_train=200, n_test=20):
    """Write four small .gz files (incompressible noise, so several chunks); return (arrays, checksums)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    checksums = {}
    for key, arr in arrays.items():
        path = write_idx(directory / (FILES[key] + ".gz"), arr)
        checksums[FILES[key]] = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
    return arrays, checksums


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/nothing/"


def test_download_then_load(tmp_path, http_root):
    base, root = http_root
    arrays, checksums = publish(root / "good")
    dest = tmp_path / "dest"
    calls = []
    out = download_dataset(
        "mnist", dest, progress=lambda *a: calls.append(a), mirrors=[base + "good/"], checksums=checksums
    )
    assert out == dest
    assert sorted(p.name for p in dest.iterdir()) == sorted(f + ".gz" for f in FILES.values())
    ds = load_dataset("mnist", data_dir=dest)
    np.testing.assert_array_equal(ds.X_train, arrays["train_images"].reshape(-1, 784))
    np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])

    for base_name in FILES.values():
        name = base_name + ".gz"
        done = [c[1] for c in calls if c[0] == name]
        totals = {c[2] for c in calls if c[0] == name}
        size = (root / "good" / name).stat().st_size
        assert done == sorted(done) and done[-1] == size
        assert totals == {size}
    big = [c[1] for c in calls if c[0] == FILES["train_images"] + ".gz"]
    assert len(set(big)) >= 3  # several chunks with increasing byte counts

    # Files already present and intact are not fetched again (works offline).
    download_dataset("mnist", dest, mirrors=[dead_url()], checksums=checksums, timeout=5)


def _assert_nothing_left(dest: Path):
    assert list(dest.iterdir()) == []  # neither the file nor a temporary file


def test_download_truncated_gz_leaves_nothing(tmp_path, http_root):
    base, root = http_root
    _, checksums = publish(root / "bad")
    victim = root / "bad" / (FILES["train_images"] + ".gz")
    victim.write_bytes(victim.read_bytes()[:-5000])
    dest = tmp_path / "dest"
    with pytest.raises(DataFileError) as info:
        download_dataset("mnist", dest, mirrors=[base + "bad/"], checksums=checksums)
    assert FILES["train_images"] + ".gz" in str(info.value)
    assert "truncated" in str(info.value)
    _assert_nothing_left(dest)


def test_download_checksum_mismatch_leaves_nothing(tmp_path, http_root):
    base, root = http_root
    _, checksums = publish(root / "good")
    checksums[FILES["train_images"]] = "0" * 64
    dest = tmp_path / "dest"
    with pytest.raises(DataFileError, match="checksum mismatch for train-images-idx3-ubyte.gz"):
        download_dataset("mnist", dest, mirrors=[base + "good/"], checksums=checksums)
    _assert_nothing_left(dest)


def test_download_not_gzip_is_a_data_error(tmp_path, http_root):
    base, root = http_root
    _, checksums = publish(root / "html")
    (root / "html" / (FILES["train_images"] + ".gz")).write_text("<html>Access denied</html>")
    dest = tmp_path / "dest"
    with pytest.raises(DataFileError, match="not a valid gzip stream"):
        download_dataset("mnist", dest, mirrors=[base + "html/"], checksums=checksums)
    _assert_nothing_left(dest)


def test_download_falls_back_to_next_mirror(tmp_path, http_root):
    base, root = http_root
    arrays, checksums = publish(root / "good")
    # First mirror: 404 for everything. Second: a damaged copy. Third: good.
    _, _ = publish(root / "damaged")
    (root / "damaged" / (FILES["test_labels"] + ".gz")).write_bytes(b"\x1f\x8b broken")
    dest = download_dataset(
        "mnist",
        tmp_path / "dest",
        mirrors=[base + "missing/", base + "damaged", base + "good/"],
        checksums=checksums,
    )
    np.testing.assert_array_equal(load_dataset("mnist", data_dir=dest).y_test, arrays["test_labels"])


def test_download_no_mirror_answers(tmp_path, http_root):
    base, _ = http_root
    urls = [dead_url(), base + "missing/"]
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError) as info:
        download_dataset("mnist", dest, mirrors=urls, checksums={f: "0" * 64 for f in FILES.values()}, timeout=5)
    assert isinstance(info.value, OSError)
    msg = str(info.value)
    for url in urls:
        assert url + FILES["train_images"] + ".gz" in msg
    assert "404" in msg
    assert [u for u, _ in info.value.attempts] == [u + FILES["train_images"] + ".gz" for u in urls]
    _assert_nothing_left(dest)


def test_progress_callback_can_cancel(tmp_path, http_root):
    base, root = http_root
    _, checksums = publish(root / "good")

    class Cancelled(Exception):
        pass

    def progress(name, done, total):
        if done > 0:
            raise Cancelled

    dest = tmp_path / "dest"
    with pytest.raises(Cancelled):
        download_dataset("mnist", dest, progress=progress, mirrors=[base + "good/"], checksums=checksums)
    _assert_nothing_left(dest)


def test_load_dataset_download_true(tmp_path, http_root, monkeypatch):
    base, root = http_root
    arrays, checksums = publish(root / "good")
    monkeypatch.setitem(data.MIRRORS, "mnist", (base + "good/",))
    monkeypatch.setitem(data.SHA256, "mnist", checksums)
    with pytest.raises(DatasetNotFoundError):
        load_dataset("mnist")
    ds = load_dataset("mnist", download=True)
    assert ds.source == user_data_dir() / "mnist" == tmp_path / "xdg" / "mlp-studio" / "mnist"
    np.testing.assert_array_equal(ds.X_test, arrays["test_images"].reshape(-1, 784))


def test_checksum_override_must_be_complete(tmp_path):
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte"):
        download_dataset("mnist", tmp_path, mirrors=[dead_url()], checksums={FILES["train_images"]: "0" * 64})


# --------------------------------------------------------------------------
# real data (CI sets MLP_STUDIO_DATA)
# --------------------------------------------------------------------------


def _use_real_data(name, monkeypatch) -> None:
    """Restore the real MLP_STUDIO_DATA (hidden by isolated_env); skip if the data is absent."""
    if _REAL_DATA:
        monkeypatch.setenv("MLP_STUDIO_DATA", _REAL_DATA)
    if locate_dataset(name) is None:
        pytest.skip(
            f"real {name} data not found (MLP_STUDIO_DATA={_REAL_DATA!r}); "
            f"set MLP_STUDIO_DATA to the folder that holds {name}/ to run this test"
        )


@pytest.mark.realdata
@pytest.mark.parametrize(
    "name, train_pixel_sum, first_labels",
    [("mnist", 1_567_298_545, [5, 0, 4, 1, 9]), ("fashion-mnist", 3_431_114_169, [9, 0, 0, 3, 0])],
)
def test_real_dataset(tmp_path, monkeypatch, name, train_pixel_sum, first_labels):
    _use_real_data(name, monkeypatch)
    ds = load_dataset(name)
    assert ds.X_train.shape == (60000, 784) and ds.X_test.shape == (10000, 784)
    assert ds.y_train.shape == (60000,) and ds.y_test.shape == (10000,)
    assert ds.y_train[:5].tolist() == first_labels
    assert int(ds.X_train.sum(dtype=np.int64)) == train_pixel_sum
    assert np.bincount(ds.y_test, minlength=10).sum() == 10000 and ds.y_train.max() == 9
    cached = sorted(p.name.split(".")[1] for p in (tmp_path / "cache" / name).glob("*.npy"))
    assert cached == ["X_test", "X_train", "y_test", "y_train"]


@pytest.mark.realdata
@pytest.mark.parametrize("name", DATASET_NAMES)
def test_real_dataset_checksums_match_table(monkeypatch, name):
    _use_real_data(name, monkeypatch)
    assert data.verify_dataset(name) == locate_dataset(name)

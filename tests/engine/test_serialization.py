import json
import zipfile

import numpy as np
import pytest

from mlp_engine import MLP, ModelFileError, Preprocessor, load_model


def make_net():
    net = MLP([784, 16, 10], seed=5)
    net.preprocessor = Preprocessor("log")
    net.class_names = tuple("abcdefghij")
    return net


def test_round_trip(tmp_path):
    net = make_net()
    net.save(tmp_path / "m.npz")
    other = load_model(tmp_path / "m.npz")
    for p, q in zip(net.parameters(), other.parameters()):
        np.testing.assert_array_equal(p, q)
    assert other.class_names == net.class_names
    assert other.preprocessor.kind == "log"
    assert repr(other) == repr(net)


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    make_net().save(tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    make_net().save(path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        MLP([784, 8, 10]).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_corrupt_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(ModelFileError, match="bad.npz"):
        load_model(bad)


def test_truncated_file(tmp_path):
    path = tmp_path / "m.npz"
    make_net().save(path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ModelFileError, match="m.npz"):
        load_model(path)


def test_npz_without_metadata(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ModelFileError, match="not an MLP Studio model"):
        load_model(tmp_path / "x.npz")


def test_inconsistent_shapes(tmp_path):
    path = tmp_path / "m.npz"
    make_net().save(path)
    with zipfile.ZipFile(path) as z:
        arrays = {n[:-4]: np.load(z.open(n)) for n in z.namelist()}
    meta = json.loads(str(arrays["meta_json"]))
    meta["network"]["layer_sizes"] = [784, 32, 10]
    arrays["meta_json"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match=r"parameter 0 has shape \(784, 16\)"):
        load_model(path)


def test_wrong_input_size_is_refused(tmp_path):
    MLP([100, 10]).save(tmp_path / "small.npz")
    with pytest.raises(ModelFileError, match="takes 100 inputs"):
        load_model(tmp_path / "small.npz", expect_inputs=784)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_model("nope.npz")


def test_half_precision_bundle_is_smaller_and_predicts_the_same(tmp_path):
    net = make_net()
    net.save(tmp_path / "full.npz")
    from mlp_engine import save_model

    save_model(net, tmp_path / "half.npz", half=True)
    assert (tmp_path / "half.npz").stat().st_size < 0.6 * (tmp_path / "full.npz").stat().st_size
    half = load_model(tmp_path / "half.npz")
    assert half.parameters()[0].dtype == np.float32
    X = np.random.default_rng(0).integers(0, 256, (50, 784))
    np.testing.assert_array_equal(half.predict(X, preprocessed=False), net.predict(X, preprocessed=False))


def test_saved_files_get_normal_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        make_net().save(tmp_path / "m.npz")
    finally:
        os.umask(umask)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644

"""End-to-end tests of the ``mlp-engine`` command line on a tiny synthetic data set.

The data are written as real IDX files (the standard four names) into ``tmp_path/<name>/``
and found through ``--data-dir``, so the whole path from files to printed results is tested.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mlp_engine
from mlp_engine import PRESETS, cli
from mlp_engine.data import FILES, locate_dataset, synthetic_dataset, write_idx

_REAL_DATA = os.environ.get("MLP_STUDIO_DATA", "")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No real data, cache or user directory leaks into a test (or is written by one)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("MLP_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MLP_STUDIO_DATA", raising=False)


def write_idx_dataset(root: Path, name: str = "fashion-mnist", n_train: int = 256, n_test: int = 64) -> Path:
    ds = synthetic_dataset(n_train=n_train, n_test=n_test)
    d = root / name
    d.mkdir(parents=True)
    write_idx(d / FILES["train_images"], ds.X_train.reshape(-1, 28, 28))
    write_idx(d / FILES["train_labels"], ds.y_train.astype(np.uint8))
    write_idx(d / FILES["test_images"], ds.X_test.reshape(-1, 28, 28))
    write_idx(d / FILES["test_labels"], ds.y_test.astype(np.uint8))
    return root


@pytest.fixture
def data_dir(tmp_path):
    return write_idx_dataset(tmp_path / "data")


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


SMALL = ("--hidden", "32", "--batch-size", "16", "--lr", "0.01", "--epochs", "2")


def train_json(capsys, data_dir, *extra):
    code, out, err = run(capsys, "train", "--data-dir", data_dir, *SMALL, "--json", *extra)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_train_json_lines_and_final_object(capsys, data_dir):
    objs = train_json(capsys, data_dir)
    epochs, final = objs[:-1], objs[-1]
    assert [o["epoch"] for o in epochs] == [0, 1]
    for o in objs:
        for key in ("epoch", "train_loss", "train_set_loss", "train_acc", "test_acc", "train_seconds"):
            assert key in o
        assert o["train_seconds"] > 0
    assert "final" not in epochs[0] and final["final"] is True
    assert final["epoch"] == 1 and final["test_acc"] == epochs[-1]["test_acc"]
    assert final["config"]["hidden"] == [32] and final["saved"] is None
    # The synthetic classes are easy: two epochs must learn something.
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert final["test_acc"] > 0.5


def test_train_human_output_is_the_papers_table(capsys, data_dir):
    code, out, err = run(capsys, "train", "--data-dir", data_dir, *SMALL)
    assert code == 0, err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["epoch"])
    assert "train loss" in lines[header] and "test acc" in lines[header] and "batch loss" in lines[header]
    rows = [line.split() for line in lines[header + 1 : header + 3]]
    assert [r[0] for r in rows] == ["0", "1"]
    assert all(0 <= float(r[2]) <= 1 and 0 <= float(r[3]) <= 1 for r in rows)
    assert "test accuracy" in lines[-1]
    assert err == ""  # no progress bar when stderr is not a terminal


def test_preset_values_are_overridden_only_by_explicit_options():
    parser = cli.build_parser()
    args = parser.parse_args(["train", "--preset", "paper", "--lr", "0.02", "--hidden", "64"])
    config = cli.build_config(args)
    base = PRESETS["paper"][1]
    assert config.lr == 0.02 and config.hidden == (64,) and config.dropout == (0.0,)
    assert config.weight_decay == base.weight_decay and config.optimizer == base.optimizer
    assert config.momentum == base.momentum and config.preprocess == base.preprocess
    assert config.batch_size == base.batch_size and config.epochs == base.epochs
    # No options: the preset exactly; no preset: TrainConfig defaults.
    assert cli.build_config(parser.parse_args(["train", "--preset", "paper-mnist"])) == PRESETS["paper-mnist"][1]
    assert cli.build_config(parser.parse_args(["train"])) == mlp_engine.TrainConfig()
    softmax = cli.build_config(parser.parse_args(["train", "--preset", "paper", "--hidden"]))
    assert softmax.hidden == () and softmax.dropout == ()


def test_every_config_field_has_an_option():
    import dataclasses

    parser = cli.build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    dests = {a.dest for a in train._actions}
    missing = {f.name for f in dataclasses.fields(mlp_engine.TrainConfig)} - dests
    assert not missing, f"TrainConfig fields without a train option: {missing}"
    args = parser.parse_args(["train", "--augment-flip", "--no-eval-train"])
    config = cli.build_config(args)
    assert config.augment_flip is True and config.eval_train is False


def test_preset_run_with_override(capsys, data_dir):
    objs = train_json(capsys, data_dir, "--preset", "paper-sgd", "--epochs", "1")
    config = objs[-1]["config"]
    assert config["optimizer"] == "sgd" and config["name"] == "paper-sgd"
    assert config["epochs"] == 1 and config["lr"] == 0.01 and config["hidden"] == [32]
    assert config["preprocess"] == PRESETS["paper-sgd"][1].preprocess
    assert len(objs) == 2


def test_list_presets(capsys):
    code, out, _ = run(capsys, "train", "--list-presets")
    assert code == 0
    for name in PRESETS:
        assert any(line.startswith(name + " ") for line in out.splitlines())


def save_png(path: Path, array: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)
    return path


def test_save_then_evaluate_and_classify(capsys, data_dir, tmp_path):
    model = tmp_path / "out" / "model.npz"
    objs = train_json(capsys, data_dir, "--save", model)
    assert model.is_file() and objs[-1]["saved"] == str(model)
    assert not [p for p in model.parent.iterdir() if p.name.endswith(".tmp")]

    code, out, err = run(capsys, "evaluate", "--model", model, "--data-dir", data_dir, "--json")
    assert code == 0, err
    ev = json.loads(out)
    assert ev["dataset"] == "fashion-mnist"  # taken from the model's metadata
    assert ev["accuracy"] == pytest.approx(objs[-1]["test_acc"])
    cm = np.array(ev["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == ev["n"] == 64
    assert np.trace(cm) / cm.sum() == pytest.approx(ev["accuracy"])
    assert [c["support"] for c in ev["classes"]] == cm.sum(axis=1).tolist()
    assert all(0 <= c["auc"] <= 1 for c in ev["classes"])

    code, out, err = run(capsys, "evaluate", "--model", model, "--data-dir", data_dir)
    assert code == 0, err
    assert "accuracy" in out and "confusion matrix" in out and "AUC" in out

    ds = synthetic_dataset(n_train=256, n_test=64)
    images = [save_png(tmp_path / f"img{i}.png", ds.X_test[i].reshape(28, 28)) for i in range(3)]
    code, out, err = run(capsys, "classify", "--model", model, *images, "--json")
    assert code == 0, err
    results = json.loads(out)
    net = mlp_engine.load_model(model)
    for r, path in zip(results, images):
        assert r["path"] == str(path)
        p = np.array(r["probabilities"])
        assert p.shape == (10,) and p.sum() == pytest.approx(1, abs=1e-4)
        assert r["label"] == int(p.argmax()) and r["class"] == net.class_names[r["label"]]
        from PIL import Image

        from mlp_engine.imaging import to_mnist

        x = to_mnist(Image.open(path)).reshape(1, -1) * 255
        assert np.allclose(p, net.predict_proba(x, preprocessed=False)[0], atol=1e-5)
    code, out, err = run(capsys, "classify", "--model", model, images[0])
    assert code == 0 and out.startswith(f"{images[0]}: ")


def test_python_dash_m_runs_the_same_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mlp_engine", "train", "--preset", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "invalid choice: 'nope'" in proc.stderr and "paper-mnist" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- bad input: a clear message, the right exit code, nothing written ----------------------------


def test_unknown_option_value_lists_valid_ones(capsys):
    code, _, err = run(capsys, "train", "--optimizer", "adagrad")
    assert code == 2 and "invalid choice: 'adagrad'" in err and "rmsprop" in err


def test_negative_learning_rate(capsys, data_dir, tmp_path):
    code, _, err = run(capsys, "train", "--data-dir", data_dir, "--lr", "-0.1", "--save", tmp_path / "m.npz")
    assert code == 2 and "learning rate" in err and "-0.1" in err
    assert not (tmp_path / "m.npz").exists()


def test_batch_larger_than_data(capsys, data_dir):
    code, _, err = run(capsys, "train", "--data-dir", data_dir, "--batch-size", "1000", "--epochs", "1")
    assert code == 1 and "batch_size 1000" in err and "256" in err


def test_missing_data_set_names_searched_places(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "train", "--dataset", "mnist", "--data-dir", empty, "--epochs", "1")
    assert code == 1 and "not found" in err and str(empty) in err and "datasets download mnist" in err


def test_corrupt_data_file(capsys, data_dir):
    labels = data_dir / "fashion-mnist" / FILES["train_labels"]
    labels.write_bytes(labels.read_bytes()[:20])  # truncated
    code, _, err = run(capsys, "train", "--data-dir", data_dir, *SMALL)
    assert code == 1 and FILES["train_labels"] in err


def test_corrupt_and_missing_model_files(capsys, data_dir, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip archive")
    code, _, err = run(capsys, "evaluate", "--model", bad, "--data-dir", data_dir)
    assert code == 1 and str(bad) in err and "not a readable" in err
    code, _, err = run(capsys, "evaluate", "--model", tmp_path / "missing.npz", "--data-dir", data_dir)
    assert code == 1 and "does not exist" in err


def test_model_of_another_shape(capsys, tmp_path):
    small = tmp_path / "small.npz"
    mlp_engine.MLP([20, 5, 3]).save(small)
    img = save_png(tmp_path / "x.png", np.pad(np.full((10, 4), 255), 9))
    code, _, err = run(capsys, "classify", "--model", small, img)
    assert code == 1 and str(small) in err and "20 inputs" in err


def test_missing_bundled_model(capsys, tmp_path, monkeypatch):
    import mlp_studio_resources

    monkeypatch.setattr(mlp_studio_resources, "resource_path", lambda *parts: tmp_path.joinpath(*parts))
    img = save_png(tmp_path / "x.png", np.pad(np.full((10, 4), 255), 9))
    code, _, err = run(capsys, "classify", "--model", "mnist", img)
    assert code == 1 and "no bundled model 'mnist'" in err and "make models" in err


@pytest.fixture
def model(tmp_path, capsys, data_dir):
    path = tmp_path / "model.npz"
    train_json(capsys, data_dir, "--epochs", "1", "--save", path)
    return path


def test_unreadable_and_empty_images(capsys, model, tmp_path):
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    good = save_png(tmp_path / "good.png", np.pad(np.full((10, 4), 255), 9))
    code, out, err = run(capsys, "classify", "--model", model, good, not_image)
    assert code == 1 and str(not_image) in err and "cannot read image" in err
    assert out == ""  # nothing printed half-way, not even the good image's result
    blank = save_png(tmp_path / "blank.png", np.zeros((50, 50)))
    code, out, err = run(capsys, "classify", "--model", model, blank)
    assert code == 1 and str(blank) in err and "empty" in err and out == ""
    code, _, err = run(capsys, "classify", "--model", model, tmp_path / "nope.png")
    assert code == 1 and "does not exist" in err


def test_divergence_saves_nothing_and_says_so(capsys, data_dir, tmp_path):
    path = tmp_path / "diverged.npz"
    code, _, err = run(capsys, "train", "--data-dir", data_dir, "--preprocess", "none", "--optimizer", "sgd",
                       "--lr", "10", "--hidden", "32", "--epochs", "2", "--save", path)
    assert code == 1 and "diverged" in err and "smaller learning rate" in err
    assert "Nothing was saved" in err and not path.exists()


def test_divergence_after_a_good_epoch_saves_the_last_good_model(capsys, data_dir, tmp_path, monkeypatch):
    original = mlp_engine.Trainer.run

    def diverging_in_second_epoch(self):
        for report in original(self):
            yield report
            if isinstance(report, mlp_engine.EpochReport):
                raise mlp_engine.TrainingDiverged("training diverged at epoch 1 batch 0: the loss became nan")

    monkeypatch.setattr(mlp_engine.Trainer, "run", diverging_in_second_epoch)
    path = tmp_path / "m.npz"
    code, _, err = run(capsys, "train", "--data-dir", data_dir, *SMALL, "--save", path)
    assert code == 1 and "diverged at epoch 1" in err
    assert f"last good model (end of epoch 0) was saved to {path}" in err
    assert mlp_engine.load_model(path).meta["epochs_trained"] == 1


def test_ctrl_c_stops_cleanly(capsys, data_dir, tmp_path, monkeypatch):
    original = mlp_engine.Trainer.run

    def interrupted_after_first_epoch(self):
        for report in original(self):
            yield report
            if isinstance(report, mlp_engine.EpochReport):
                raise KeyboardInterrupt

    monkeypatch.setattr(mlp_engine.Trainer, "run", interrupted_after_first_epoch)
    path = tmp_path / "m.npz"
    code, out, err = run(capsys, "train", "--data-dir", data_dir, *SMALL, "--save", path)
    assert code == 130 and "interrupted" in err and "1 complete epoch" in err and "NOT saved" in err
    assert not path.exists()


def test_datasets_lists_found_and_searched(capsys, data_dir):
    code, out, _ = run(capsys, "datasets", "--data-dir", data_dir)
    assert code == 0
    assert f"fashion-mnist: found in {data_dir / 'fashion-mnist'}" in out
    assert "mnist: not found; searched:" in out and str(data_dir / "mnist") in out
    code, _, err = run(capsys, "datasets", "download", "cifar")
    assert code == 2 and "invalid choice" in err


# -- real data ------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_paper_preset_two_epochs_on_fashion_mnist(capsys, monkeypatch):
    if _REAL_DATA:
        monkeypatch.setenv("MLP_STUDIO_DATA", _REAL_DATA)
    if locate_dataset("fashion-mnist") is None:
        pytest.skip("Fashion-MNIST not found; set MLP_STUDIO_DATA to the folder holding fashion-mnist/")
    code, out, err = run(capsys, "train", "--preset", "paper", "--epochs", "2", "--json")
    assert code == 0, err
    final = json.loads(out.splitlines()[-1])
    assert final["final"] is True and final["epoch"] == 1
    assert final["test_acc"] >= 0.84

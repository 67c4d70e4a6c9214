"""The models shipped in resources/models/: small, self-describing, trained by today's presets.

When a best-* preset changes, `make models` must be rerun: the config stored in the bundled
model has to be the preset's. With the real data (MLP_STUDIO_DATA), the stored test accuracy
is checked against a fresh evaluation.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import mlp_studio_resources
from mlp_engine import TrainConfig, load_dataset, load_model, preset
from mlp_engine.data import locate_dataset

BUNDLED = [("mnist", "best-mnist", 0.986), ("fashion-mnist", "best-fashion", 0.905)]
_REAL_DATA = os.environ.get("MLP_STUDIO_DATA", "")


@pytest.mark.parametrize("name, preset_name, target", BUNDLED)
def test_bundled_model_is_small_and_describes_itself(name, preset_name, target):
    path = mlp_studio_resources.resource_path("models", f"{name}.npz")
    assert path.stat().st_size < 5_000_000
    net = load_model(path)
    assert net.n_inputs == 784 and net.n_classes == 10 and net.dtype == np.float32
    assert net.preprocessor.kind != "none"
    assert len(set(net.class_names)) == 10
    assert net.meta["dataset"] == name and net.meta["preset"] == preset_name
    # through TrainConfig, so options added since (at their defaults) compare equal
    stored = {k: v for k, v in TrainConfig.from_dict(net.meta["config"]).to_dict().items() if k != "name"}
    current = {k: v for k, v in preset(preset_name).to_dict().items() if k != "name"}
    assert stored == current, "the preset changed since the bundled model was trained: run `make models`"
    assert net.meta["test_acc"] >= target


@pytest.mark.realdata
@pytest.mark.parametrize("name, preset_name, target", BUNDLED)
def test_bundled_model_accuracy_on_the_real_test_set(monkeypatch, name, preset_name, target):
    if _REAL_DATA:
        monkeypatch.setenv("MLP_STUDIO_DATA", _REAL_DATA)
    if locate_dataset(name) is None:
        pytest.skip(f"real {name} data not found; set MLP_STUDIO_DATA to the folder that holds {name}/")
    net = load_model(mlp_studio_resources.resource_path("models", f"{name}.npz"))
    d = load_dataset(name)
    acc = float(np.mean(net.predict(d.X_test, preprocessed=False) == d.y_test))
    assert acc == pytest.approx(net.meta["test_acc"], abs=5e-4) and acc >= target

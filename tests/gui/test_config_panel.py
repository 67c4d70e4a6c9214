"""ConfigPanel: form <-> TrainConfig both ways, presets, validators, live fields."""
import dataclasses

import pytest
from PySide6.QtCore import Qt

from mlp_engine import PRESETS, TrainConfig
from mlp_gui.widgets.config_panel import ConfigPanel, ScientificSpinBox


@pytest.fixture
def panel(qtbot):
    p = ConfigPanel()
    qtbot.addWidget(p)
    return p


CUSTOM = TrainConfig(
    dataset="mnist", hidden=(300, 100, 50), activation="tanh", dropout=(0.1, 0.2, 0.5), input_dropout=0.05,
    optimizer="adam", lr=0.00035, momentum=0.8, gamma=0.95, beta1=0.85, beta2=0.9995, eps=1e-7,
    weight_decay=0.000625, max_norm=5.0, label_smoothing=0.1, batch_size=64, epochs=7, preprocess="standardize",
    schedule="cosine", step_size=3, step_gamma=0.5, warmup_epochs=1.5, min_lr_ratio=0.05, augment="affine",
    augment_shift=1.5, augment_rotate=12.0, augment_scale=0.15, augment_flip=True, seed=2**40 + 3, val_split=0.1, eval_train=False,
    name="custom run",
)


@pytest.mark.parametrize("cfg", [TrainConfig(), CUSTOM, TrainConfig(hidden=(), dropout=())] +
                         [c for _, c in PRESETS.values()], ids=lambda c: c.name or "cfg")
def test_config_to_form_to_config_is_identity(panel, cfg):
    panel.set_config(cfg)
    out = panel.config()
    assert out == cfg
    assert out.name == cfg.name
    assert panel.is_valid() and not panel.error_label.isVisible()


def test_form_to_config_reads_every_widget(panel):
    f = panel.fields
    f["dataset"].setCurrentIndex(f["dataset"].findData("mnist"))
    panel.hidden_editor.set_layers([64, 32], [0.0, 0.0])
    panel.hidden_editor.add_button.click()
    panel.hidden_editor.rate_boxes()[2].setValue(0.3)
    f["activation"].setCurrentIndex(f["activation"].findData("sigmoid"))
    f["optimizer"].setCurrentIndex(f["optimizer"].findData("rmsprop"))
    f["lr"].setValue(0.002)
    f["gamma"].setValue(0.95)
    f["batch_size"].setValue(256)
    f["epochs"].setValue(3)
    f["seed"].setText("42")
    f["eval_train"].setChecked(False)
    f["name"].setText("mine")
    cfg = panel.config()
    assert cfg.dataset == "mnist" and cfg.hidden == (64, 32, 32) and cfg.dropout == (0.0, 0.0, 0.3)
    assert (cfg.activation, cfg.optimizer, cfg.lr, cfg.gamma) == ("sigmoid", "rmsprop", 0.002, 0.95)
    assert (cfg.batch_size, cfg.epochs, cfg.seed, cfg.eval_train, cfg.name) == (256, 3, 42, False, "mine")
    # ... and form -> config -> form -> config is stable.
    panel.set_config(cfg)
    assert panel.config() == cfg


def test_every_field_has_a_widget_and_a_tooltip(panel):
    names = {f.name for f in dataclasses.fields(TrainConfig)} - {"dropout"}  # dropout: per-layer rows
    assert names == set(panel.fields)
    for name, w in panel.fields.items():
        assert w.toolTip(), name
    panel.hidden_editor.set_layers([10], [0.5])
    for box in panel.hidden_editor.rate_boxes():
        assert box.toolTip()


def test_presets_fill_the_form(panel):
    assert panel.preset_combo.count() == len(PRESETS) + 1
    for name, (description, cfg) in PRESETS.items():
        index = panel.preset_combo.findData(name)
        assert panel.preset_combo.itemData(index, Qt.ItemDataRole.ToolTipRole) == description
        panel.preset_combo.setCurrentIndex(index)
        panel.preset_combo.activated.emit(index)
        assert panel.config() == cfg
        assert panel.fields["name"].text() == name
        assert panel.preset_description.text() == description


def test_spin_boxes_carry_the_engine_limits(panel):
    f = panel.fields
    assert (f["momentum"].minimum(), f["momentum"].maximum()) == (0.0, 0.9999)
    assert f["beta2"].maximum() == 0.999999
    assert f["batch_size"].minimum() == 1 and f["batch_size"].maximum() == 1_000_000
    assert f["epochs"].minimum() == 1
    assert f["val_split"].maximum() == 0.5
    assert f["label_smoothing"].maximum() == 0.5
    assert 0 < f["lr"].minimum() and f["lr"].maximum() == 10.0
    f["momentum"].setValue(5.0)
    assert f["momentum"].value() == 0.9999
    assert panel.hidden_editor.layers() == ((256, 128), (0.0, 0.0))
    panel.hidden_editor.rate_boxes()[0].setValue(1.0)
    assert panel.hidden_editor.layers()[1][0] == 0.95


def test_invalid_numbers_cannot_be_typed(qtbot, panel):
    lr = panel.fields["lr"]
    assert isinstance(lr, ScientificSpinBox)
    from PySide6.QtGui import QValidator
    assert lr.validate("abc", 0)[0] == QValidator.State.Invalid
    assert lr.validate("1e-3", 0)[0] == QValidator.State.Acceptable
    assert lr.validate("0", 0)[0] != QValidator.State.Acceptable  # the rate must be > 0
    assert lr.validate("20", 0)[0] != QValidator.State.Acceptable
    seed = panel.fields["seed"]
    seed.clear()
    qtbot.keyClicks(seed, "12x-3")
    assert seed.text() == "123"


def test_learning_rate_steps_along_1_2_5(panel):
    lr = panel.fields["lr"]
    lr.setValue(0.01)
    lr.stepBy(1)
    assert lr.value() == 0.02
    lr.stepBy(1)
    assert lr.value() == 0.05
    lr.stepBy(2)
    assert lr.value() == 0.2
    lr.stepBy(-3)
    assert lr.value() == 0.02
    assert lr.text() == "0.02"
    wd = panel.fields["weight_decay"]
    wd.setValue(0.0)
    wd.stepBy(1)
    assert wd.value() == 1e-5
    wd.stepBy(-1)
    assert wd.value() == 0.0


def test_optimizer_fields_show_only_for_their_optimizer(qtbot, panel):
    panel.show()
    f = panel.fields
    visible = lambda name: f[name].isVisibleTo(panel)  # noqa: E731
    expected = {
        "sgd": set(), "momentum": {"momentum"}, "nesterov": {"momentum"}, "rmsprop": {"gamma", "eps"},
        "adam": {"beta1", "beta2", "eps"},
    }
    for opt, shown in expected.items():
        f["optimizer"].setCurrentIndex(f["optimizer"].findData(opt))
        assert {n for n in ("momentum", "gamma", "beta1", "beta2", "eps") if visible(n)} == shown, opt
        assert visible("lr") and visible("weight_decay")
    f["schedule"].setCurrentIndex(f["schedule"].findData("step"))
    assert visible("step_size") and not visible("min_lr_ratio")
    f["schedule"].setCurrentIndex(f["schedule"].findData("cosine"))
    assert visible("min_lr_ratio") and not visible("step_size")
    f["augment"].setCurrentIndex(f["augment"].findData("shift"))
    assert visible("augment_shift") and not visible("augment_rotate")


def test_invalid_combination_shows_the_engine_message(qtbot, panel):
    panel.show()
    seen = []
    panel.config_changed.connect(seen.append)
    panel.fields["epochs"].setValue(2)
    panel.fields["warmup_epochs"].setValue(5.0)
    assert seen[-1] is None
    assert not panel.is_valid()
    assert "warmup_epochs" in panel.error() and panel.error_label.isVisible()
    with pytest.raises(ValueError, match="warmup_epochs"):
        panel.config()
    panel.fields["warmup_epochs"].setValue(1.0)
    assert isinstance(seen[-1], TrainConfig) and panel.is_valid()
    assert not panel.error_label.isVisible()


def test_running_locks_all_but_live_hyperparameters(panel):
    running = panel.config()
    panel.set_running(True)
    f = panel.fields
    assert f["lr"].isEnabled() and f["momentum"].isEnabled() and f["weight_decay"].isEnabled()
    assert all(b.isEnabled() for b in panel.hidden_editor.rate_boxes())
    assert not f["batch_size"].isEnabled() and not f["optimizer"].isEnabled() and not f["dataset"].isEnabled()
    assert not panel.hidden_editor.add_button.isEnabled() and not panel.preset_combo.isEnabled()
    assert panel.live_changes(running) == {}
    f["lr"].setValue(0.005)
    panel.hidden_editor.rate_boxes()[1].setValue(0.25)
    assert panel.live_changes(running) == {"lr": 0.005, "dropout": [0.0, 0.25]}
    panel.set_running(False)
    assert f["batch_size"].isEnabled() and panel.hidden_editor.add_button.isEnabled()


def test_removing_every_layer_gives_softmax_regression(panel):
    editor = panel.hidden_editor
    while editor.layers()[0]:
        editor._rows[0][3].click()
    cfg = panel.config()
    assert cfg.hidden == () and cfg.dropout == ()
    assert editor._empty.isVisibleTo(panel)

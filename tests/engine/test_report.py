"""Tests of the paper-reproduction report (``mlp-engine reproduce``), on tiny synthetic data."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlp_engine import cli, report
from mlp_engine.config import preset
from mlp_engine.data import synthetic_dataset

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """One ``reproduce --quick`` run on 128 generated images per data set, shared by the tests."""
    out = tmp_path_factory.mktemp("repro")
    calls = []

    def loader(name):
        calls.append(name)
        return synthetic_dataset(n_train=128, n_test=64, seed=len(calls))

    lines = []
    path = report.reproduce(out, quick=True, loader=loader, progress=lines.append)
    return out, path, calls, lines


def test_quick_reproduce_writes_report_results_and_figures(quick_report):
    out, path, calls, lines = quick_report
    assert path == out / "report.md" and sorted(calls) == ["fashion-mnist", "mnist"]
    text = path.read_text()
    for heading in ("## 1. Feature processing", "## 2. Batch size", "## 3. Optimizers", "## 4. Weight decay",
                    "## 5. Dropout", "## 6. Softmax regression", "## 7. ROC", "## 8. The same network on MNIST",
                    "## The presets", "## Every run and its time"):
        assert heading in text
    assert "Quick mode" in text and "mlp-engine reproduce --quick" in text
    # every paper table is printed beside ours
    for table in report.PAPER_TABLES.values():
        for loss, train_acc, test_acc in table.values():
            assert f"{loss:.3f}" in text and f"{100 * test_acc:.1f}" in text
    pngs = sorted(p.name for p in out.glob("*.png"))
    for name in ("samples.png", "features.png", "batch.png", "optimizers.png", "optimizer_losses.png",
                 "weight_decay.png", "final.png", "dropout.png", "softmax.png", "roc_class0.png", "mnist.png"):
        assert name in pngs
        assert f"({name})" in text  # linked from the report
    for name in pngs:
        assert (out / name).read_bytes()[:8] == PNG_MAGIC
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))
    results = json.loads((out / "results.json").read_text())
    specs = report.experiment_specs(quick=True)
    assert [r["key"] for r in results["runs"]] == [s.key for s in specs]
    for r in results["runs"]:
        assert r["config"]["epochs"] <= report.QUICK_EPOCHS
        assert r["history"] or r["diverged"]
    assert len(lines) >= len(specs)  # progress reported for every run


def test_quick_runs_take_their_configs_from_the_presets(quick_report):
    out, *_ = quick_report
    runs = {r["key"]: r for r in json.loads((out / "results.json").read_text())["runs"]}
    for key, name in (("optimizers/sgd", "paper-sgd"), ("optimizers/momentum", "paper-momentum"),
                      ("optimizers/rmsprop", "paper-rmsprop"), ("weight_decay/paper", "paper-weight-decay"), ("final/seed0", "paper"),
                      ("softmax/paper", "paper-softmax"), ("mnist/paper", "paper-mnist")):
        cfg = runs[key]["config"]
        want = preset(name)
        assert cfg["name"] == name and cfg["lr"] == want.lr and cfg["optimizer"] == want.optimizer
        assert cfg["weight_decay"] == want.weight_decay and cfg["hidden"] == list(want.hidden)
    assert runs["mnist/paper"]["config"]["dataset"] == "mnist"
    assert runs["softmax/paper"]["config"]["hidden"] == []
    roc = runs["final/seed0"]["extra"]["roc0"]
    assert 0.0 <= roc["auc"] <= 1.0 and roc["fpr"][0] == 0.0 and roc["tpr"][-1] == 1.0


def test_render_only_rebuilds_the_same_report(quick_report, capsys):
    out, path, *_ = quick_report
    before = path.read_text()
    path.unlink()
    (out / "features.png").unlink()
    assert cli.main(["reproduce", "--out", str(out), "--render-only"]) == 0
    assert str(path) in capsys.readouterr().out
    assert path.read_text() == before and (out / "features.png").is_file()


def test_cli_reproduce_render_only_without_results(tmp_path, capsys):
    assert cli.main(["reproduce", "--out", str(tmp_path), "--render-only"]) == 1
    err = capsys.readouterr().err
    assert "results.json does not exist" in err and "Traceback" not in err


def test_cli_reproduce_passes_its_options(monkeypatch, tmp_path, capsys):
    seen = {}

    def fake(out, quick, data_dir, progress, render_only, resume):
        seen.update(out=out, quick=quick, data_dir=data_dir, render_only=render_only, resume=resume)
        return tmp_path / "report.md"

    monkeypatch.setattr(report, "reproduce", fake)
    assert cli.main(["reproduce", "--out", str(tmp_path), "--quick", "--dataset-dir", "/data"]) == 0
    assert seen == {"out": str(tmp_path), "quick": True, "data_dir": "/data", "render_only": False, "resume": False}


def test_interrupted_reproduction_resumes_with_the_finished_runs(tmp_path, monkeypatch, capsys):
    real_train_run = report.train_run
    calls = []

    def interrupted_on_the_third_run(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_train_run(*args, **kwargs)

    loader = lambda name: synthetic_dataset(n_train=64, n_test=32)  # noqa: E731
    monkeypatch.setattr(report, "train_run", interrupted_on_the_third_run)
    with pytest.raises(KeyboardInterrupt):
        report.reproduce(tmp_path, quick=True, loader=loader)
    partial = json.loads((tmp_path / "results.partial.json").read_text())
    assert [r["key"] for r in partial["runs"]] == calls[:2]
    assert not (tmp_path / "report.md").exists()

    calls.clear()
    monkeypatch.setattr(report, "train_run", lambda *a, **k: (calls.append(a[0]), real_train_run(*a, **k))[1])
    # Rendering is tested with the shared quick run; here only which runs are trained matters.
    monkeypatch.setattr(report, "write_outputs",
                        lambda out, results, data: (out / "report.md").write_text(str(len(results["runs"]))))
    lines = []
    report.reproduce(tmp_path, quick=True, loader=loader, resume=True, progress=lines.append)
    keys = [s.key for s in report.experiment_specs(quick=True)]
    assert (tmp_path / "report.md").is_file() and not (tmp_path / "results.partial.json").exists()
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["key"] for r in results["runs"]] == keys
    twins = {r["key"] for r in results["runs"] if "same_as" in r["extra"]}
    assert calls == [k for k in keys[2:] if k not in twins]  # the finished runs were not trained again
    assert sum("reused" in line for line in lines) == 2


def test_identical_configurations_are_trained_once(quick_report):
    out, *_ = quick_report
    runs = {r["key"]: r for r in json.loads((out / "results.json").read_text())["runs"]}
    # in quick mode features/log and batch/128 are both paper-momentum for 2 epochs
    assert runs["batch/128"]["extra"]["same_as"] == "features/log"
    assert runs["batch/128"]["history"] == runs["features/log"]["history"]
    assert runs["batch/128"]["seconds"] == 0.0


def test_comparison_table_flags_differences_over_one_and_a_half_points():
    run = report.Run("x", "x", preset("paper"), history=[
        {"epoch": 0, "train_loss": 0.422, "train_acc": 0.847, "test_acc": 0.831},
        {"epoch": 3, "train_loss": 0.367, "train_acc": 0.863 + 0.016, "test_acc": 0.842 - 0.014},
    ])
    lines, flagged = report.comparison_table(run, report.PAPER_TABLES["momentum"])
    assert len(lines) == 2 + 4
    assert "| 0 | 0.422 | 0.422 | +0.0 | 84.7 | 84.7 | +0.0 | 83.1 | 83.1 | +0.0 |" in lines
    assert "**+1.6**" in lines[3] and "-1.4" in lines[3] and "**-1.4**" not in lines[3]
    assert flagged == ["epoch 3 train accuracy (87.9 vs 86.3)"]
    assert lines[4].count("–") == 6  # ours and Δ for an epoch the run did not reach


def test_mean_abs_diff_marks_a_diverged_run():
    run = report.Run("x", "x", preset("paper"), history=[], diverged="diverged at epoch 0 batch 3")
    assert report._mean_abs_diff(run, report.PAPER_TABLES["momentum"]) == float("inf")


def test_paper_numbers_match_paper_md():
    """The tables stored in report.py are the ones in the course paper's summary."""
    paper = Path(__file__).resolve().parents[3] / "shared" / "PAPER.md"
    if not paper.is_file():
        pytest.skip(f"{paper} not found (shared/ lies beside the repository)")
    rows = [line for line in paper.read_text().splitlines() if line.startswith("|")]
    for name, table in report.PAPER_TABLES.items():
        for epoch, values in table.items():
            want = " / ".join(f"{v:.3f}" for v in values)
            plain = [f"{v:g}" for v in values]
            assert any(want in row for row in rows) or any(
                row.startswith(f"| {epoch} |") and all(p in row for p in plain) for row in rows
            ), (name, epoch)

"""The command line: classify and summary, text and JSON, and their errors."""

import json
import subprocess
import sys

from inception_gui.cli import main
from model.precision import _cpu_has_fast


def test_classify_json(tiny_checkpoint, sample_images, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for p in sample_images:
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "zero.png").write_bytes(b"")
    code = main(
        [
            "classify",
            "--weights",
            str(tiny_checkpoint),
            "--device",
            "cpu",
            "-k",
            "2",
            "--json",
            str(folder),
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 1  # one image failed
    assert doc["weights"] == "tiny.safetensors" and doc["trained"] is True
    # auto, with measuring turned off for the tests (conftest): fp32, and it says why
    assert doc["precision"] == "fp32"
    choice = doc["precision_choice"]
    assert choice["requested"] == "auto" and choice["chosen"] == "fp32" and choice["reason"]
    by_name = {e["path"].rsplit("/", 1)[-1]: e for e in doc["images"]}
    assert set(by_name) == {p.name for p in sample_images} | {"zero.png"}
    assert "empty" in by_name["zero.png"]["error"]
    preds = by_name[sample_images[0].name]["predictions"]
    assert len(preds) == 2 and set(preds[0]) == {"label", "index", "probability"}


def test_classify_text_marks_untrained(sample_images, capsys):
    code = main(
        ["classify", "--weights", "none", "--device", "cpu", "-k", "1", str(sample_images[0])]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "untrained" in out and " 1. " in out


def test_classify_verbose_says_what_auto_chose_and_why(tiny_checkpoint, sample_images, capsys):
    code = main(
        [
            "classify",
            "--weights",
            str(tiny_checkpoint),
            "--device",
            "cpu",
            "--verbose",
            str(sample_images[0]),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "precision: fp32 (auto: fp32: " in out  # only fp32 here, or measuring is off
    main(
        [
            "classify",
            "--weights",
            str(tiny_checkpoint),
            "--precision",
            "fp32",
            "--verbose",
            str(sample_images[0]),
        ]
    )
    assert "precision: fp32 (asked for)" in capsys.readouterr().out


def test_classify_bad_weights_is_an_error(tmp_path, sample_images, capsys):
    bad = tmp_path / "x.pth"
    bad.write_text("nope")
    assert main(["classify", "--weights", str(bad), str(sample_images[0])]) == 2
    assert "x.pth" in capsys.readouterr().err


def test_summary_json_totals(capsys, node_keys):
    assert main(["summary", "--variant", "paper", "--input-size", "75", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total_params"] == 24_826_016
    tree = doc["tree"]
    assert tree["total_params"] == 24_826_016
    assert {c["name"] for c in tree["children"]} >= {"Mixed_5b", "AuxLogits", "fc"}
    assert set(tree["children"][0]) >= node_keys


def test_summary_text(capsys):
    assert main(["summary", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "27,161,264" in out and "Mixed_7c" in out and "2048 x 8 x 8" in out


def test_model_package_never_imports_qt():
    code = (
        "import sys, model; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'superqt', 'qtpy', 'inception_gui')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_linter_contract():
    import shutil

    exe = shutil.which("lint-imports") or str(
        __import__("pathlib").Path(sys.executable).parent / "lint-imports"
    )
    done = subprocess.run([exe], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "KEPT" in done.stdout


def test_classify_precision_option(tiny_checkpoint, sample_images, capsys):
    args = ["classify", "--weights", str(tiny_checkpoint), "--device", "cpu", "--json"]
    assert main([*args, "--precision", "fp32", str(sample_images[0])]) == 0
    assert json.loads(capsys.readouterr().out)["precision"] == "fp32"

    if not _cpu_has_fast(__import__("torch").float16):
        assert main([*args, "--precision", "fp16", str(sample_images[0])]) == 2
        assert "fp16" in capsys.readouterr().err


def test_out_of_range_options_are_usage_errors(sample_images, capsys):
    import pytest

    for argv in (
        ["classify", "--batch-size", "0", str(sample_images[0])],
        ["classify", "-k", "0", str(sample_images[0])],
        ["summary", "--input-size", "100000"],  # would ask for 240 GB
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert "is not between" in capsys.readouterr().err


def test_summary_into_a_closed_pipe_ends_quietly():
    reader = subprocess.Popen(
        [sys.executable, "-m", "inception_gui.cli", "summary", "--input-size", "75"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reader.stdout.close()  # as `| head` does once it has read its lines
    err = reader.stderr.read().decode()
    assert reader.wait(timeout=120) == 1 and "Traceback" not in err, err


def test_audit_names_the_misfiled_picture(tmp_path, make_dataset, backbone_file, capsys):
    import shutil

    data = make_dataset(tmp_path / "data", per_class=8)
    shutil.move(str(data / "green" / "5.png"), str(data / "red" / "green5.png"))
    argv = [
        "audit",
        str(data),
        "--weights",
        str(backbone_file),
        "--input-size",
        "75",
        "--device",
        "cpu",
        "--threshold",
        "0.9999",
    ]
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    top = doc["suspects"][0]
    assert top["path"].endswith("green5.png") and top["given"] == "red"
    assert top["suggested"] == "green" and top["score"] > 0
    assert doc["images"] == 24 and doc["class_names"] == ["blue", "green", "red"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "24 training images, 3 classes" in out and "filed as red" in out


def test_audit_of_a_missing_folder_is_an_error(tmp_path, capsys):
    assert main(["audit", str(tmp_path / "nowhere"), "--weights", "none"]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_classify_int8_calibrates_on_the_images_given_or_says_what_it_needs(
    tiny_checkpoint, sample_images, tmp_path, capsys
):
    base = ["classify", "--weights", str(tiny_checkpoint), "--device", "cpu", "--precision"]
    code = main([*base, "int8", str(sample_images[0])])  # one image: too few to calibrate on
    assert code == 2 and "int8 needs at least 4 of your own images" in capsys.readouterr().err
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, p in enumerate(sample_images * 2):
        (folder / f"{i}{p.suffix}").write_bytes(p.read_bytes())
    code = main([*base, "int8", "--json", str(folder)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["precision"] == "int8" and len(doc["images"]) == 6
    assert doc["precision_choice"] == {"requested": "int8", "chosen": "int8", "reason": "asked for"}
    assert main([*base, "int8", str(sample_images[0])]) == 0  # cached now: one image will do


def test_train_options_reach_the_config_and_unset_ones_come_from_the_recipe():
    from inception_gui.cli.main import build_parser
    from inception_gui.cli.train import _train_config

    def config(*extra):
        args = build_parser().parse_args(
            ["train", "data", "--out", "o", "--train-from", "mixed_7", *extra]
        )
        return _train_config(args)

    default = config()
    assert default.head_first == 100 and default.keep_batchnorm_statistics is False
    given = config("--head-first", "0", "--keep-bn-statistics")
    assert given.head_first == 0 and given.keep_batchnorm_statistics is True


def test_train_prints_the_fitted_head_as_epoch_zero(capsys, fitted_head_events):
    from dataclasses import replace

    from inception_gui.cli.train import _TrainPrinter

    end, stopped = fitted_head_events("run")
    printer = _TrainPrinter(json_lines=False, quiet=False)
    printer.show(end)
    printer.show(replace(end, epoch=1, is_best=False))
    head, first = capsys.readouterr().out.splitlines()
    assert head.startswith("epoch 0/2  train loss 0.4000 acc  95.0%  val loss 0.3000 acc  96.7%")
    assert head.endswith("(best)  (the new head, fitted first)")
    assert first.startswith("epoch 1/2") and "fitted first" not in first and "(best)" not in first
    printer.show(stopped)
    said = capsys.readouterr().out.splitlines()[0]
    assert said == (
        "cancelled: 0 epoch(s) run in this call (the new head, fitted first, saved), in run"
    )

"""The glassnet command: subcommands on bundled data and user files, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from glassnet.cli import main


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert "glassnet 0.1.0" in capsys.readouterr().out
    for sub in (
        ["train", "cnn"],
        ["train", "charlm"],
        ["train", "forecast"],
        ["eval"],
        ["generate"],
        ["forecast"],
        ["tour"],
    ):
        with pytest.raises(SystemExit) as e:
            main([*sub, "--help"])
        assert e.value.code == 0
        assert "usage: glassnet" in capsys.readouterr().out


def test_train_cnn_on_npz_then_eval(tmp_path, capsys):
    r = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    images = r.random((60, 8, 8)).astype(np.float32) * 0.2
    for c in range(3):
        images[labels == c, c * 2 : c * 2 + 3, :] += 0.8  # a learnable stripe per class
    np.savez(tmp_path / "toy.npz", images=images, labels=labels)
    out = tmp_path / "run"
    code, text, _ = run(
        [
            "train",
            "cnn",
            "--data",
            tmp_path / "toy.npz",
            "--epochs",
            8,
            "--out",
            out,
            "--no-progress",
            "--channels",
            "4",
            "--hidden",
            "8",
            "--lr",
            "0.01",
        ],
        capsys,
    )
    assert code == 0 and "test accuracy" in text
    assert (out / "checkpoint.safetensors").exists() and (out / "curves.png").exists()
    assert (out / "metrics.jsonl").read_text().count('"event": "epoch"') == 8
    code, text, _ = run(["eval", out / "checkpoint.safetensors"], capsys)
    assert code == 0 and text.startswith("accuracy ")
    code, _, err = run(["train", "cnn", "--data", tmp_path / "toy.npz", "--out", out], capsys)
    assert code == 2 and "--resume" in err


def test_train_cnn_on_image_folder(tmp_path, capsys):
    import matplotlib.image as mpimg

    for c in ("cats", "dogs"):
        (tmp_path / "imgs" / c).mkdir(parents=True)
        for i in range(6):
            img = np.full((8, 8), 0.9 if c == "cats" else 0.1)
            mpimg.imsave(tmp_path / "imgs" / c / f"{i}.png", img, cmap="gray", vmin=0, vmax=1)
    code, text, _ = run(
        [
            "train",
            "cnn",
            "--data",
            tmp_path / "imgs",
            "--epochs",
            2,
            "--out",
            tmp_path / "run",
            "--no-progress",
            "--channels",
            "2",
            "--hidden",
            "4",
        ],
        capsys,
    )
    assert code == 0 and "test accuracy" in text


def test_train_charlm_generate_eval(tmp_path, capsys):
    text = "the quick brown fox jumps over the lazy dog. " * 40
    (tmp_path / "t.txt").write_text(text)
    out = tmp_path / "lm"
    code, printed, _ = run(
        [
            "train",
            "charlm",
            "--data",
            tmp_path / "t.txt",
            "--epochs",
            2,
            "--hidden",
            16,
            "--embed",
            8,
            "--seq-len",
            16,
            "--batch-size",
            4,
            "--out",
            out,
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0 and "validation perplexity" in printed
    code, printed, _ = run(
        [
            "generate",
            out / "checkpoint.safetensors",
            "--prefix",
            "the ",
            "--length",
            30,
            "--top-k",
            1,
        ],
        capsys,
    )
    assert code == 0 and printed.startswith("the ") and len(printed.strip()) >= 30
    code, printed, _ = run(["eval", out / "checkpoint.safetensors"], capsys)
    assert code == 0 and printed.startswith("perplexity ")
    # characters outside the training vocabulary read as <unk> (the CLI's documented policy)
    code, printed, _ = run(
        ["generate", out / "checkpoint.safetensors", "--prefix", "\u00e9"], capsys
    )
    assert code == 0 and printed.startswith("\u00e9") and len(printed.strip()) > 100


def test_train_forecast_on_csv_then_forecast(tmp_path, capsys):
    t = np.arange(200)
    rows = "\n".join(f"{i},{np.sin(0.2 * i):.6f}" for i in t)
    (tmp_path / "s.csv").write_text("t,value\n" + rows + "\n")
    out = tmp_path / "fc"
    code, printed, _ = run(
        [
            "train",
            "forecast",
            "--data",
            tmp_path / "s.csv",
            "--column",
            "value",
            "--model",
            "ar",
            "--tau",
            4,
            "--epochs",
            30,
            "--out",
            out,
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0 and "persistence" in printed
    code, printed, _ = run(
        ["forecast", out / "checkpoint.safetensors", "--steps", 5, "--csv", tmp_path / "f.csv"],
        capsys,
    )
    assert code == 0
    lines = (tmp_path / "f.csv").read_text().splitlines()
    assert lines[0] == "step,value" and len(lines) == 6
    code, printed, _ = run(["eval", out / "checkpoint.safetensors"], capsys)
    assert code == 0 and "RMSE" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "cnn", "--data", "nosuchset"], "neither a bundled set"),
        (["train", "charlm", "--data", "missing.txt"], "neither a bundled text"),
        (["train", "forecast", "--data", "{csv}"], "pass --column"),
        (["train", "forecast", "--data", "{csv}", "--column", "nope"], "no column 'nope'"),
        (["train", "forecast", "--data", "{bad}", "--column", "v"], "non-numeric value 'abc'"),
        (["train", "charlm", "--data", "{empty}"], "empty"),
        (["eval", "{csv}"], "not a safetensors file"),
        (["eval", "missing.safetensors"], "does not exist"),
    ],
)
def test_user_errors_are_one_line(tmp_path, capsys, args, message):
    (tmp_path / "s.csv").write_text("t,v\n" + "\n".join(f"{i},{i}" for i in range(30)) + "\n")
    (tmp_path / "bad.csv").write_text("t,v\n1,2\n2,abc\n")
    (tmp_path / "empty.txt").write_text("  \n")
    subst = {
        "{csv}": tmp_path / "s.csv",
        "{bad}": tmp_path / "bad.csv",
        "{empty}": tmp_path / "empty.txt",
    }
    argv = [str(subst.get(a, a)) for a in args] + ["--out", str(tmp_path / "o")] * (
        args[0] == "train"
    )
    code, _, err = run(argv, capsys)
    assert code == 2
    assert err.startswith("glassnet: error: ") and err.count("\n") == 1, err
    assert message in err


def test_invalid_flag_values_are_reported(capsys):
    for argv in (
        ["train", "cnn", "--epochs", "0"],
        ["train", "cnn", "--lr", "abc"],
        ["train", "forecast", "--test-fraction", "1.5"],
        ["train", "charlm", "--cell", "lsmt"],
    ):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "error: argument" in err and "Traceback" not in err


def test_tour_quick(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "glassnet", "tour", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 8
    assert "http://" not in html and "https://" not in html
    assert "validation perplexity" in proc.stdout
    # every long section reports progress as it runs; in a pipe, as plain lines (no bars)
    for line in ("epoch 2/2  loss", "LSTM on sunspots  5/5 (100%)", "char LSTM epoch 1/1  "):
        assert line in proc.stdout, line
    assert "\r" not in proc.stdout


def test_export_onnx_and_safetensors(tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    import glassnet
    from glassnet.cli.train import read_checkpoint, rebuild

    text = "abcabcabd " * 60
    (tmp_path / "t.txt").write_text(text)
    out = tmp_path / "lm"
    assert (
        run(
            [
                "train",
                "charlm",
                "--data",
                tmp_path / "t.txt",
                "--epochs",
                1,
                "--hidden",
                8,
                "--embed",
                4,
                "--seq-len",
                8,
                "--batch-size",
                4,
                "--out",
                out,
                "--no-progress",
            ],
            capsys,
        )[0]
        == 0
    )
    ckpt = out / "checkpoint.safetensors"
    code, printed, _ = run(
        [
            "export",
            ckpt,
            "--onnx",
            tmp_path / "lm.onnx",
            "--safetensors",
            tmp_path / "w.safetensors",
        ],
        capsys,
    )
    assert code == 0 and "ONNX" in printed
    model = rebuild(read_checkpoint(ckpt))
    ids = np.array([[1, 2, 3, 0, 1], [2, 2, 1, 0, 3]], np.int64)  # another batch and length
    session = ort.InferenceSession(str(tmp_path / "lm.onnx"))
    (logits, *_), expected = session.run(None, {"input": ids}), model(glassnet.tensor(ids))[0]
    np.testing.assert_allclose(logits, expected.data, rtol=1e-5, atol=1e-5)
    weights = glassnet.io.load(tmp_path / "w.safetensors")
    assert set(weights) == set(model.state_dict())
    code, _, err = run(["export", ckpt], capsys)
    assert code == 2 and "nothing to do" in err


def test_offline_download_is_one_line(tmp_path, capsys, monkeypatch):
    import urllib.error

    import glassnet.data.download as dl

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(dl, "_urlopen", offline)
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path / "cache"))
    code, _, err = run(["train", "cnn", "--data", "mnist", "--out", tmp_path / "o"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "could not download train-images-idx3-ubyte.gz" in err and "place it at" in err

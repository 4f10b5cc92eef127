"""Every case of the bad-input corpus through the engine and the command line, with its known outcome."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from synthetic.bad_inputs import N_DISCS, cases
from particle_gui.cli import main
from particle_gui.core.output.batch import OUTPUT_SUFFIXES, analyze_file
from particle_gui.core.output.inputs import short_stem
from particle_gui.core.errors import ParticleGuiError
from particle_gui.core.params import PipelineParams
from tests.robustness.conftest import assert_clear, assert_words

NAMES = [case.name for case in cases()]
REPO = Path(__file__).resolve().parents[2]


def test_the_corpus_is_large_and_varied():
    assert len(NAMES) >= 30 and len(set(NAMES)) == len(NAMES)
    expected = [case.expect for case in cases()]
    assert sum(e.ok for e in expected) >= 20 and sum(not e.ok for e in expected) >= 15


def _case(corpus, name):
    return next((case, path) for case, path in corpus if case.name == name)


def read_summary(out_dir: Path) -> list[dict[str, str]]:
    with (out_dir / "summary.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", NAMES)
def test_engine(corpus, name):
    case, path = _case(corpus, name)
    expect = case.expect
    if not expect.ok:
        with pytest.raises(ParticleGuiError) as caught:
            analyze_file(path, PipelineParams())
        assert_clear(str(caught.value), path)
        assert_words(str(caught.value), expect.error)
        return
    _, result, warnings = analyze_file(path, PipelineParams())
    assert expect.count[0] <= result.count <= expect.count[1]
    assert_words("; ".join(warnings), expect.warning)


@pytest.mark.parametrize("name", NAMES)
def test_cli(corpus, name, tmp_path, capsys):
    case, path = _case(corpus, name)
    out = tmp_path / "out"
    code = main(["analyze", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (row,) = read_summary(out)
    if case.batch_expect.ok:
        assert code == 0, err
        assert row["status"] == "ok"
        assert case.batch_expect.count[0] <= int(row["n_particles"]) <= case.batch_expect.count[1]
        assert_words(row["warnings"], case.batch_expect.warning)
        stem = short_stem(path.stem)
        assert sorted(p.name for p in out.iterdir()) == sorted(
            [f"{stem}{suffix}" for suffix in OUTPUT_SUFFIXES] + ["records", "run.json", "summary.csv"]
        )
        assert [p.name for p in (out / "records").iterdir()] == [f"{stem}.json"]
    else:
        assert code == 1
        assert row["status"].startswith("failed: ")
        assert_words(row["status"], case.batch_expect.error)
        (line,) = [line for line in err.splitlines() if "failed" in line and "image(s) analysed" not in line]
        assert_clear(line, path)
        assert sorted(p.name for p in out.iterdir()) == ["records", "run.json", "summary.csv"]  # no partial outputs


def test_cli_subprocess_on_the_whole_corpus(corpus, tmp_path):
    """One real process over every case: it finishes, exit code 1, one summary row per case."""
    out = tmp_path / "out"
    paths = [str(path) for _, path in corpus]
    process = subprocess.run(
        [sys.executable, "-m", "particle_gui", "analyze", *paths, "--out", str(out)],
        capture_output=True, text=True, encoding="utf-8", cwd=REPO, timeout=900, check=False,
    )
    assert process.returncode == 1, process.stderr[-2000:]
    assert "Traceback" not in process.stderr
    rows = read_summary(out)
    assert [row["path"] for row in rows] == paths
    for (case, path), row in zip(corpus, rows):
        assert (row["status"] == "ok") == case.batch_expect.ok, (case.name, row["status"])
        if case.batch_expect.ok:
            assert case.batch_expect.count[0] <= int(row["n_particles"]) <= case.batch_expect.count[1], case.name
        else:
            assert f"{path}: failed: " in process.stderr, case.name
    refused = sum(not case.batch_expect.ok for case, _ in corpus)
    assert f"{len(corpus) - refused} of {len(corpus)} image(s) analysed, {refused} failed" in process.stderr


def test_the_huge_image_is_refused_without_reading_it(corpus):
    """400 Mpx would need ~2 GB just for the 8-bit data; the refusal reads only the header."""
    import resource

    _, path = _case(corpus, "huge_20000")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ParticleGuiError, match="20000 x 20000"):
        analyze_file(path, PipelineParams())
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # kB: nothing decoded


def test_long_names_get_short_distinct_output_stems(corpus, tmp_path):
    _, path = _case(corpus, "long_path")
    other = tmp_path / (path.stem[:-1] + "y.tif")
    other.write_bytes(path.read_bytes())
    out = tmp_path / "out"
    assert main(["analyze", str(path), str(other), "--out", str(out)]) == 0
    rows = read_summary(out)
    assert [int(row["n_particles"]) for row in rows] == [N_DISCS, N_DISCS]
    stems = [row["output_stem"] for row in rows]
    assert stems[0] != stems[1] and all(len(stem.encode()) == 200 for stem in stems)
    assert all(len(p.name.encode()) <= 255 for p in out.iterdir())

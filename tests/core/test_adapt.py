"""Adaptation to corrected images: agreement, the parameter search, profiles and the corrected-files reader.

The known answer: :func:`synthetic.known_shapes.touching_pairs` draws discs in overlapping pairs;
the defaults keep most pairs whole (F1 2/3: one of each pair matched), a neck split separates
them all, and the search must find it from one corrected image and carry it to another.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from particle_gui.core.adapt.adaptation import adapt
from particle_gui.core.adapt.agreement import Agreement, agreement, pooled
from particle_gui.core.adapt.corrected import CorrectedImage, CorrectionsError, find_corrected
from particle_gui.core.adapt.profile import ProfileError, load_profile
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.params import PipelineParams
from synthetic.known_shapes import touching_pairs


def _loaded(grey: np.ndarray) -> LoadedImage:
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


@pytest.fixture(scope="module")
def pairs():
    return [(_loaded(grey), labels) for grey, labels in (touching_pairs(0), touching_pairs(1))]


def test_agreement_counts_matches_and_d50():
    truth = np.zeros((60, 60), np.int32)
    truth[10:20, 10:20], truth[30:40, 30:40] = 1, 2
    same = agreement(truth, truth * 5, min_fragment_px=1)
    assert (same.n_true, same.n_pred, same.n_matched, same.f1, same.d50_error) == (2, 2, 2, 1.0, 0.0)
    merged = truth.copy()
    merged[20:30, 10:40] = 1
    merged[merged == 2] = 1
    worse = agreement(truth, merged, min_fragment_px=1)
    assert worse.n_matched == 0 and worse.f1 == 0.0 and worse.d50_error > 1.0
    assert worse.objective == pytest.approx(-0.5)
    assert pooled([same, worse]) == Agreement(4, 3, 2, float(np.median([0.0, worse.d50_error])), 2)
    with pytest.raises(ValueError, match="differ in size"):
        agreement(truth, truth[:50])


def test_labels_fast_path_equals_the_full_run(pairs):
    image, _ = pairs[0]
    pipeline = Pipeline(image)
    fast = pipeline.labels(PipelineParams())
    assert np.array_equal(fast, Pipeline(image).run(PipelineParams()).labels)
    assert pipeline.run(PipelineParams()).stages_run == ("measure", "summary")  # the rest came cached (shapes: kind "cache")


def test_adapt_learns_the_split_from_one_image_and_carries_it_to_another(pairs):
    (a, truth_a), (b, truth_b) = pairs
    before = agreement(truth_b, Pipeline(b).labels(PipelineParams()))
    assert before.f1 == pytest.approx(2 / 3, abs=0.05)  # pairs kept whole
    profile = adapt([CorrectedImage(a, truth_a)], PipelineParams(), deadline_s=120)
    assert profile.figures["fit"]["after"]["f1"] == 1.0
    assert "held_out" not in profile.figures  # one image: nothing to hold out
    after = agreement(truth_b, Pipeline(b).labels(profile.params))
    assert after.f1 == 1.0 and abs(after.d50_error) < 0.02
    assert profile.params.split.mode != "sure_foreground" or profile.params.split.sure_foreground_fraction != 0.6
    assert all(" -> " in change for change in profile.changed) and profile.changed


def test_held_out_gain_and_profile_round_trip(pairs, tmp_path):
    profile = adapt([CorrectedImage(image, truth) for image, truth in pairs], PipelineParams(), deadline_s=120)
    held = profile.figures["held_out"]
    assert held["before"]["f1"] == pytest.approx(2 / 3, abs=0.05) and held["after"]["f1"] == 1.0
    assert [row["image"] for row in held["images"]] == ["unnamed image", "unnamed image"]
    path = tmp_path / "profile.json"
    profile.write(path)
    again = load_profile(path)
    assert again.params == profile.params and again.figures == profile.figures and again.changed == profile.changed
    assert any("Held out one at a time: F1 0.67 -> 1.00" in line for line in again.summary_lines())


def test_profile_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(ProfileError, match="no such profile"):
        load_profile(tmp_path / "missing.json")
    params = tmp_path / "params.json"
    params.write_text(PipelineParams().to_json())
    with pytest.raises(ProfileError, match="not an adapted profile"):
        load_profile(params)
    binary = tmp_path / "image.json"
    binary.write_bytes(b"\x89PNG\r\n")
    with pytest.raises(ProfileError, match="not a readable profile"):
        load_profile(binary)


def _write_pair(folder, stem, grey, labels):
    Image.fromarray((grey * 255).astype(np.uint8)).save(folder / f"{stem}.png")
    tifffile.imwrite(folder / f"{stem}_labels.tif", labels.astype(np.uint16))


def test_find_corrected_pairs_labels_with_their_images(tmp_path):
    grey, labels = touching_pairs(2)
    _write_pair(tmp_path, "one", grey, labels)
    Image.fromarray((grey * 255).astype(np.uint8)).save(tmp_path / "uncorrected.png")
    found = find_corrected(tmp_path)
    assert [c.name for c in found] == ["one.png"]
    assert np.array_equal(found[0].labels, labels)


@pytest.mark.parametrize("problem, message", [
    ("no_image", "no image two"), ("wrong_size", "not of this image"), ("float", "not a label image"),
    ("empty", "hold no particle"), ("none", "No corrections in"),
])
def test_find_corrected_refuses_bad_corrections(tmp_path, problem, message):
    grey, labels = touching_pairs(3)
    if problem == "no_image":
        tifffile.imwrite(tmp_path / "two_labels.tif", labels.astype(np.uint16))
    elif problem == "wrong_size":
        _write_pair(tmp_path, "two", grey, labels)
        tifffile.imwrite(tmp_path / "two_labels.tif", labels[:100].astype(np.uint16))
    elif problem == "float":
        _write_pair(tmp_path, "two", grey, labels)
        tifffile.imwrite(tmp_path / "two_labels.tif", labels.astype(np.float32))
    elif problem == "empty":
        _write_pair(tmp_path, "two", grey, np.zeros_like(labels))
    with pytest.raises(CorrectionsError, match=message):
        find_corrected(tmp_path)


def test_options_beyond_a_parameters_range_are_skipped(pairs):
    from particle_gui.core.adapt.search import Evaluator, classical_axes, search

    image, truth = pairs[0]
    axes = classical_axes(typical_px=900.0)  # split distances of 225-450 px: beyond min_distance_px's 200
    result = search(Evaluator([Pipeline(image)], [truth]), PipelineParams(), axes[-1:], rounds=1)
    assert result.params.split.min_distance_px <= 200 and result.agreement.f1 >= result.start_agreement.f1


def test_the_network_scale_is_learnt_relative_to_its_own_choice():
    # An absolute diameter learnt on one image ruins images of the same kind at another magnification;
    # every scale option leaves the diameter to the network and sets a factor on its choice.
    from particle_gui.core.adapt.search import apply_option, dl_axes

    scale_axis = dl_axes(40.0)[0]
    tried = [apply_option(PipelineParams(method="dl"), option).dl for option in scale_axis.options]
    assert all(d.expected_diameter_px == 0.0 for d in tried)
    assert {d.scale_factor for d in tried} >= {0.7, 1.0, 2.0}

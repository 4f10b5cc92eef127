"""The Adapt menu with the real window: learn from a saved session, apply, and walk the suspects."""

from __future__ import annotations

import numpy as np
from PIL import Image

from particle_gui.core.adapt.agreement import agreement
from particle_gui.core.editing.session import SessionState, file_sha256, save_session
from particle_gui.core.output.render import suspect_ids
from particle_gui.core.params import PipelineParams
from synthetic.known_shapes import touching_pairs
from tests.gui.conftest import disc_grey


def _folder(tmp_path):
    truths = {}
    for seed, stem in enumerate(("a", "b")):
        grey, truth = touching_pairs(seed)
        path = tmp_path / f"{stem}.png"
        Image.fromarray((grey * 255).round().astype(np.uint8)).save(path)
        truths[stem] = truth
    a = tmp_path / "a.png"
    save_session(tmp_path / "a.pgsession", SessionState(image_path=a, image_sha256=file_sha256(a), params=PipelineParams(),
                                                        labels=truths["a"], base=truths["a"]))
    return truths


def test_adapt_from_a_session_then_apply_to_the_next_image(qtbot, window, tmp_path):
    truths = _folder(tmp_path)
    controller = window.controller
    with qtbot.waitSignal(controller.resultChanged, timeout=20_000):
        assert controller.open_folder(tmp_path)
    menu = window.adapt_menu
    corrected, problems = menu.corrected_images()
    assert [(c.name, c.source.name) for c in corrected] == [("a.png", "a.pgsession")] and not problems
    window.hide()  # no dialog to answer: the profile is applied below as the button would
    with qtbot.waitSignal(menu.adapted, timeout=300_000) as blocker:
        assert menu.start_adaptation()
        assert not menu.start_adaptation()  # one at a time
    profile = blocker.args[0]
    assert profile.figures["fit"]["after"]["f1"] == 1.0
    qtbot.waitUntil(lambda: not menu.running, timeout=10_000)
    with qtbot.waitSignal(controller.resultChanged, timeout=20_000):
        menu.apply(profile)
    with qtbot.waitSignal(controller.resultChanged, timeout=20_000):
        controller.step_image(1)
    assert controller.current.path.name == "b.png"
    assert agreement(truths["b"], controller.current.result.labels).f1 == 1.0
    assert menu.save_action.isEnabled()


def test_nothing_to_adapt_to_says_so(qtbot, window, tmp_path):
    grey, _ = touching_pairs(4)
    Image.fromarray((grey * 255).round().astype(np.uint8)).save(tmp_path / "c.png")
    with qtbot.waitSignal(window.controller.resultChanged, timeout=20_000):
        window.controller.open_image(tmp_path / "c.png")
    with qtbot.waitSignal(window.controller.errorOccurred, timeout=5_000) as blocker:
        assert not window.adapt_menu.start_adaptation()
    assert "Nothing to adapt to yet" in blocker.args[0]


def test_next_suspect_walks_the_flagged_particles_in_order_and_wraps(qtbot, window, tmp_path):
    grey = disc_grey(width=720, diameters=(24, 24, 80, 24, 24, 9, 24))
    Image.fromarray((grey * 255).round().astype(np.uint8)).save(tmp_path / "d.png")
    controller = window.controller
    with qtbot.waitSignal(controller.resultChanged, timeout=20_000):
        controller.open_image(tmp_path / "d.png")
    result = controller.current.result
    expected = suspect_ids(result).tolist()
    table = result.particles.set_index("id")
    assert table.loc[expected, "suspect_reason"].tolist() == ["much larger than the others", "much smaller than the others"]
    visited = [window.adapt_menu.next_suspect() for _ in range(len(expected) + 1)]
    assert visited == expected + expected[:1]
    assert controller.selection == (expected[0],)
    window.overlay_mode_combo.setCurrentText("suspects")
    rgba = window.canvas.overlay_rgba()
    labels = controller.current.result.labels
    suspect_pixels, other_pixels = rgba[labels == expected[1]], rgba[(labels > 0) & ~np.isin(labels, expected)]
    assert (suspect_pixels[:, :3] == (230, 30, 30)).all() and (other_pixels[:, :3] == (255, 220, 0)).all()

"""``particle-gui adapt``: learn an adapted profile from corrected images.

    particle-gui adapt IMAGES_DIR --labels LABELS_DIR --out PROFILE.json [--method dl|classical]

LABELS_DIR holds corrected ``<stem>_labels.tif`` files (as ``analyze`` writes them, edited in the
window or elsewhere) or ``.pgsession`` files, for some of the images in IMAGES_DIR. The profile is
then applied with ``analyze --profile PROFILE.json`` and ``report --profile PROFILE.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from particle_gui.core.errors import CancelledError, ParticleGuiError


def add_parser(commands, methods: tuple[str, ...]) -> argparse.ArgumentParser:
    """Add the ``adapt`` subcommand to ``commands``."""
    parser = commands.add_parser(
        "adapt",
        help="learn the settings that reproduce your corrected images, for the rest of the folder",
        description="Search the analysis parameters for the settings that agree best with the corrected labels "
        "(instance F1 at IoU 0.5 and D50), and save them with their provenance and figures as an adapted profile "
        "for 'analyze --profile' and 'report --profile'. With two or more corrected images, the gain is also "
        "measured on each image held out of the search.",
    )
    parser.add_argument("images", type=Path, metavar="IMAGES_DIR", help="folder of the images")
    parser.add_argument("--labels", type=Path, metavar="LABELS_DIR", dest="labels_dir",
                        help="folder of corrected <stem>_labels.tif or .pgsession files (default: IMAGES_DIR)")
    parser.add_argument("--out", required=True, type=Path, metavar="PROFILE.json", help="the adapted profile to write")
    parser.add_argument("--method", choices=methods, help="method to adapt (default: from --params, else classical)")
    parser.add_argument("--params", type=Path, metavar="FILE.json", help="the settings to start from (default: the defaults)")
    parser.add_argument("--seconds", type=float, metavar="S", help="time for the search (default: 50 classical, 240 dl)")
    parser.add_argument("--no-held-out", action="store_true", help="skip measuring the gain on held-out images")
    parser.add_argument("--no-fine-tune", action="store_true",
                        help="for --method dl: search the settings only, keep the network's layers as shipped")
    parser.set_defaults(subparser=parser)
    return parser


def run(args: argparse.Namespace, prog: str) -> int:
    """Run ``adapt``; return the exit code (0 written, 1 failed, 2 usage)."""
    import dataclasses

    from particle_gui.core.adapt.adaptation import adapt
    from particle_gui.core.adapt.corrected import find_corrected
    from particle_gui.core.params import PipelineParams

    parser: argparse.ArgumentParser = args.subparser
    if args.out.is_dir():
        parser.error(f"--out {args.out} is a folder; give the profile's file name, e.g. {args.out / 'profile.json'}")
    if args.seconds is not None and not args.seconds > 0:
        parser.error("--seconds must be positive")
    try:
        start = PipelineParams.load(args.params) if args.params else PipelineParams()
        if args.method:
            start = dataclasses.replace(start, method=args.method)
        corrected = find_corrected(args.images, args.labels_dir)
    except ParticleGuiError as exc:
        parser.error(str(exc))
    print(f"{prog}: adapting the {start.method} method to {len(corrected)} corrected image(s): "
          f"{', '.join(c.name for c in corrected)}", file=sys.stderr)

    def progress(step: int, steps: int, message: str) -> None:
        print(f"{prog}: [{step}/{steps}] {message}", file=sys.stderr)

    try:
        profile = adapt(corrected, start, deadline_s=args.seconds, held_out=not args.no_held_out,
                        fine_tune_network=not args.no_fine_tune, progress=progress)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        profile.write(args.out)
    except CancelledError:
        return 130
    except (ParticleGuiError, OSError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    for line in profile.summary_lines():
        print(line)
    print(f"{prog}: profile written to {args.out}; apply it with '{prog} analyze IMAGES... --profile {args.out} --out DIR'",
          file=sys.stderr)
    return 0

"""``particle-gui calibrate``: a calibration profile from an image of a reference standard.

    particle-gui calibrate IMAGE --spheres 100nm --name "Merlin 100 nm PSL"
    particle-gui calibrate IMAGE --grating 463nm --name "Merlin grating"
    particle-gui calibrate --list

The profile (instrument, magnification, correction factor, how it was measured) is saved in the
profiles file the window uses (or ``--profiles FILE``); ``analyze`` and ``report`` then correct
every image from that instrument at that magnification, and record it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from particle_gui.core.errors import ParticleGuiError


def add_parser(commands, length_type, prog: str) -> argparse.ArgumentParser:
    """Add the ``calibrate`` subcommand to ``commands``; ``length_type`` parses lengths such as ``100nm``."""
    parser = commands.add_parser(
        "calibrate",
        help="measure a reference standard (spheres of certified size, or a grating) and save a calibration profile",
        description="Measure an image of a reference standard taken on an instrument at one magnification, and save "
        "the correction it gives to the pixel size the instrument writes, as a named profile. Later images from the "
        f"same instrument and magnification are corrected by '{prog} analyze' and '{prog} report' and in the window.",
    )
    parser.add_argument("image", nargs="?", type=Path, metavar="IMAGE", help="image of the standard")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--spheres", type=length_type, metavar="LENGTH", dest="spheres_nm",
                      help="certified diameter of the spheres, e.g. 100nm (their median is measured, edges at half maximum)")
    kind.add_argument("--grating", type=length_type, metavar="LENGTH", dest="grating_nm",
                      help="pitch of the grating (line or cross grating), e.g. 463nm")
    parser.add_argument("--name", help="name of the profile (a profile of the same name is replaced)")
    parser.add_argument("--profiles", type=Path, metavar="FILE.json", help="profiles file (default: the window's)")
    parser.add_argument("--params", type=Path, metavar="FILE.json", help="analysis parameters for measuring spheres")
    parser.add_argument("--list", action="store_true", help="list the saved profiles and exit")
    parser.set_defaults(subparser=parser)
    return parser


def run(args: argparse.Namespace, prog: str) -> int:
    """Run ``calibrate``: list the profiles, or measure a standard and save its profile; return the exit code."""
    from particle_gui.core.io.profiles import load_profiles, save_profiles
    from particle_gui.paths import profiles_path

    parser: argparse.ArgumentParser = args.subparser
    path = args.profiles or profiles_path()
    try:
        profiles = load_profiles(path)
    except ParticleGuiError as exc:
        parser.error(str(exc))
    if args.list:
        for p in profiles:
            factor = f"factor {p.factor:.4f}" if p.factor is not None else f"{p.pixel_size_nm:.6g} nm/px"
            where = f"x{p.magnification:g}" if p.magnification else f"field {p.field_width_nm:g} nm"
            print(f"{p.name}: {p.instrument} at {where}: {factor} ({p.standard}, {p.created})")
        if not profiles:
            print(f"{prog}: no calibration profiles in {path}", file=sys.stderr)
        return 0
    if args.image is None or (args.spheres_nm is None and args.grating_nm is None) or not args.name:
        parser.error("give IMAGE, --spheres or --grating, and --name (or --list)")
    try:
        profile = _measure(args)
    except ParticleGuiError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    save_profiles(path, [*profiles, profile])
    measured = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in profile.measured.items()
                         if not isinstance(v, list))
    factor = f"correction factor {profile.factor:.4f}" if profile.factor is not None else "no metadata to correct"
    print(f"{profile.name}: {profile.pixel_size_nm:.6g} nm/px from {profile.standard} ({measured}); {factor}; "
          f"saved in {path}")
    return 0


def _measure(args: argparse.Namespace):
    from particle_gui.core.io.loading import load_image
    from particle_gui.core.params import PipelineParams
    from particle_gui.core.io.profiles import profile_from_standard

    image = load_image(args.image)
    params = PipelineParams.load(args.params) if args.params else None
    notes: list[str] = []
    profile = profile_from_standard(args.name, image, spheres_nm=args.spheres_nm, grating_nm=args.grating_nm,
                                    params=params or PipelineParams(), notes=notes)
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    return profile

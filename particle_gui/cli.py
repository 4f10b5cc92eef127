"""The ``particle-gui`` command line: batch analysis, multi-sample reports and the GUI.

``particle-gui analyze`` runs a batch analysis, ``particle-gui report`` builds a multi-sample report;
``particle-gui [IMAGE]`` opens the GUI.

Exit codes: 0 every image analysed, 1 at least one image failed (or results could not be
written), 2 the command line was wrong, 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import particle_gui
from particle_gui import cli_adapt, cli_calibrate
from particle_gui.cli_scale import add_scale_options, dask_client, positive_int
from particle_gui.core.errors import CalibrationError, ExportError, ParamsError, ParticleGuiError
from particle_gui.core.params import METHODS, PipelineParams
from particle_gui.core.units import parse_length_nm

# The engine (SciPy, pandas, OpenCV, onnxruntime: ~1.5 s) is imported by the commands that run
# it, not at start: --help, --version and usage errors answer at once.

PROG = "particle-gui"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _length_nm(text: str) -> float:
    """Argparse type for lengths with a unit, e.g. ``2.5nm`` or ``0.2um``."""
    try:
        return parse_length_nm(text)
    except CalibrationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``particle-gui`` and its ``analyze`` subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Particle size and shape analysis for SEM/TEM images. "
        f"Run '{PROG} [IMAGE]' to open the GUI, '{PROG} analyze' for batch analysis, or '{PROG} report' "
        "to compare samples in a PDF report.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {particle_gui.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{analyze,report,calibrate,adapt}")
    analyze = commands.add_parser(
        "analyze",
        help="analyse images or folders of images and write labels, tables, overlays and a summary",
        description="Analyse images (or every image directly inside the given folders) and write, per image, "
        "<stem>_labels.tif, <stem>_particles.csv and <stem>_overlay.png, plus summary.csv and run.json for the run.",
    )
    analyze.add_argument("inputs", nargs="+", metavar="INPUT", help="image file or folder of images")
    _add_analysis_options(analyze)
    add_scale_options(analyze)
    analyze.set_defaults(subparser=analyze)
    report = commands.add_parser(
        "report",
        help="analyse a folder of samples, compare them and write report.pdf, report.xlsx and comparison.json",
        description="Each sub-folder of FOLDER is one sample (with no sub-folders, the images in FOLDER are one "
        "sample named after it). Every image is analysed as by 'analyze', its outputs written to DIR/<sample>/; "
        "the samples' pooled size distributions are compared (Kruskal-Wallis, ANOVA on ln(diameter), Tukey HSD, "
        "Kolmogorov-Smirnov) and DIR receives report.pdf, report.xlsx and comparison.json.",
    )
    report.add_argument("folder", type=Path, metavar="FOLDER", help="folder of sample sub-folders (or of images)")
    _add_analysis_options(report)
    report.add_argument("--jobs", type=positive_int, metavar="N", default=os.cpu_count() or 1,
                        help="images analysed at once, in worker processes (default: the number of cores)")
    report.set_defaults(subparser=report)
    cli_calibrate.add_parser(commands, _length_nm, PROG)
    cli_adapt.add_parser(commands, METHODS)
    return parser


def _pixels(text: str) -> float:
    """A positive number of pixels ("24" or "24px"), for argparse (the parameters check the range)."""
    number = text.strip().removesuffix("px").strip()
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of pixels, e.g. 24") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a plausible particle diameter in pixels")
    return value


def _add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``analyze`` and ``report``: output folder, parameters, calibration."""
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder (created if needed)")
    parser.add_argument("--params", type=Path, metavar="FILE.json", help="analysis parameters saved by the GUI")
    parser.add_argument("--profile", type=Path, metavar="PROFILE.json",
                        help="an adapted profile ('adapt', or the window's 'Adapt to my corrections'): its parameters "
                        "and method; not with --params")
    parser.add_argument("--method", choices=METHODS, help="segmentation method: classical (thresholding) or dl (the U-Net shipped with the app); default: from --params, else classical")
    parser.add_argument(
        "--expected-diameter", type=_pixels, metavar="PIXELS", dest="expected_diameter_px",
        help="typical particle diameter in image pixels, for --method dl (the network is run where "
        "particles have the size it was trained on); default: from --params, else estimated per image",
    )
    parser.add_argument(
        "--pixel-size", type=_length_nm, metavar="LENGTH", dest="pixel_size_nm",
        help="pixel size with a unit, e.g. 2.5nm; always wins, also over the file's metadata (recorded as an "
        "override, with a warning when they differ by more than 2%%)",
    )
    parser.add_argument(
        "--scale-bar", type=_length_nm, metavar="LENGTH", dest="scale_bar_nm",
        help="length of the scale bar burned into the images, e.g. 200nm; calibrates each image from its "
        "detected scale bar (overriding metadata, with a warning when they differ); an image whose bar is not "
        "surely found (in a data bar, or with a readable label) fails with the reason. Without it, a bar whose "
        "label reads with confidence calibrates images that have no metadata",
    )
    parser.add_argument(
        "--profiles", type=Path, metavar="FILE.json",
        help="calibration profiles from reference standards ('calibrate'); default: the window's. A profile "
        "matching an image's instrument and magnification corrects its metadata",
    )
    parser.add_argument("--no-profiles", action="store_true", help="apply no calibration profile")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or not args_list[0].startswith("-") and args_list[0] not in ("analyze", "report", "calibrate", "adapt"):
        return _launch_gui(args_list)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
        if args.command == "report":
            return _report(args, args_list)
        if args.command == "calibrate":
            return cli_calibrate.run(args, PROG)
        if args.command == "adapt":
            return cli_adapt.run(args, PROG)
        if args.command != "analyze":
            return _launch_gui(args_list)
        return _analyze(args, args_list)
    except SystemExit as exc:  # argparse exits for --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _launch_gui(argv: list[str]) -> int:
    try:
        gui = importlib.import_module("particle_gui.gui")
        launch = gui.main
    except (ImportError, AttributeError) as exc:
        print(
            f"{PROG}: the graphical interface is not available in this installation ({exc}); "
            f"batch analysis works: {PROG} analyze INPUT... --out DIR",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return int(launch(argv))


def _load_params(args: argparse.Namespace) -> PipelineParams:
    """``--params`` and ``--method`` as one PipelineParams; a usage error (exit 2) when invalid."""
    from particle_gui.core.network.dl import ModelError, load_model

    from particle_gui.core.adapt.profile import ProfileError, load_profile

    params = PipelineParams()
    try:
        if args.params is not None and args.profile is not None:
            args.subparser.error("give --params or --profile, not both (a profile holds its own parameters)")
        if args.params is not None:
            params = PipelineParams.load(args.params)
        if args.profile is not None:
            profile = load_profile(args.profile)
            params = profile.params
            args.provenance = profile.provenance(args.profile)
            if args.method is not None and args.method != profile.method:
                args.subparser.error(f"the profile {args.profile} adapts the {profile.method} method, not {args.method}")
        if args.method is not None:
            params = dataclasses.replace(params, method=args.method)
        if args.expected_diameter_px is not None:
            if params.method != "dl":
                args.subparser.error("--expected-diameter applies to --method dl only")
            params = dataclasses.replace(params, dl=dataclasses.replace(params.dl, expected_diameter_px=args.expected_diameter_px))
        if params.method == "dl":  # a missing or damaged model is a usage error, not one failure per image
            load_model()
    except (ParamsError, ModelError, ProfileError) as exc:
        args.subparser.error(str(exc))
    return params


def _profiles(args: argparse.Namespace) -> tuple:
    """The calibration profiles to apply; a usage error (exit 2) when the file cannot be read."""
    if args.no_profiles:
        return ()
    from particle_gui.core.io.profiles import load_profiles
    from particle_gui.paths import profiles_path

    try:
        return tuple(load_profiles(args.profiles or profiles_path()))
    except ParticleGuiError as exc:
        args.subparser.error(str(exc))


def _make_out_dir(args: argparse.Namespace) -> Path:
    """Create ``--out``; a usage error (exit 2) when it is a file or cannot be created."""
    out_dir: Path = args.out
    if out_dir.exists() and not out_dir.is_dir():
        args.subparser.error(f"--out {out_dir} is a file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        args.subparser.error(f"cannot create the output folder {out_dir}: {exc.strerror or exc}")
    return out_dir


def _analyze(args: argparse.Namespace, argv: list[str]) -> int:
    from tqdm import tqdm

    from particle_gui.core.output.batch import SUMMARY_NAME, ImageOutcome, run_batch
    from particle_gui.core.output.inputs import find_inputs, images_in_folder
    from particle_gui.core.io.loading import IMAGE_SUFFIXES, MAX_PIXELS

    analyze_parser: argparse.ArgumentParser = args.subparser
    params = _load_params(args)
    try:
        for item in args.inputs:
            if Path(item).is_dir() and not images_in_folder(item):
                print(f"{PROG}: note: no images in folder {item}", file=sys.stderr)
        paths = find_inputs(args.inputs)
    except OSError as exc:
        analyze_parser.error(f"cannot list {exc.filename}: {exc.strerror or exc}")
    if not paths:
        analyze_parser.error(f"no images found (images are files ending in {', '.join(IMAGE_SUFFIXES)})")
    out_dir = _make_out_dir(args)

    with tqdm(total=len(paths), unit="image", file=sys.stderr, disable=None, dynamic_ncols=True) as bar:

        def progress(done: int, total: int, outcome: ImageOutcome | None) -> None:
            if outcome is None:
                return
            if not outcome.ok:
                bar.write(f"{PROG}: {outcome.path}: {outcome.row['status']}", file=sys.stderr)
            bar.set_postfix_str(outcome.path.name, refresh=False)
            bar.update(done - bar.n)

        client = dask_client(args)
        try:
            report = run_batch(
                paths, out_dir, params,
                pixel_size_nm=args.pixel_size_nm, scale_bar_nm=args.scale_bar_nm, profiles=_profiles(args),
                command=[PROG, *argv], progress=progress, provenance=getattr(args, "provenance", None),
                jobs=args.jobs, resume=args.resume, shard=args.shard,
                executor=client.get_executor() if client is not None else None,
                montage_tile_px=args.tile, montage_overlap_px=args.tile_overlap,
                montage_above_px=MAX_PIXELS if args.tiled_above is None else min(int(args.tiled_above * 1e6), MAX_PIXELS),
            )
        except ExportError as exc:
            bar.write(f"{PROG}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            if client is not None:
                client.close()
    analysed = len(report.outcomes) - report.failed
    print(
        f"{PROG}: {analysed} of {len(paths)} image(s) analysed, {report.failed} failed; "
        f"summary in {out_dir / SUMMARY_NAME}",
        file=sys.stderr,
    )
    return EXIT_FAILED if report.failed else EXIT_OK


def _report(args: argparse.Namespace, argv: list[str]) -> int:
    from tqdm import tqdm

    from particle_gui.core.output.inputs import images_in_folder
    from particle_gui.core.io.loading import IMAGE_SUFFIXES
    from particle_gui.core.output.samples import samples_from_folder

    report_parser: argparse.ArgumentParser = args.subparser
    params = _load_params(args)
    folder: Path = args.folder
    if not folder.is_dir():
        report_parser.error(f"{folder} is not a folder (give a folder of sample sub-folders or of images)")
    try:
        samples = samples_from_folder(folder)
        loose = images_in_folder(folder) if any(paths[0].parent != folder for paths in samples.values()) else []
    except OSError as exc:
        report_parser.error(f"cannot list {exc.filename}: {exc.strerror or exc}")
    if not samples:
        report_parser.error(
            f"no images found in {folder} or its sub-folders (images are files ending in {', '.join(IMAGE_SUFFIXES)})"
        )
    for paths in samples.values():  # outputs written among the inputs would be read as images next time
        if paths[0].parent.resolve().is_relative_to(args.out.resolve()):
            report_parser.error(
                f"--out {args.out} holds the sample folder {paths[0].parent}; choose a folder outside it"
            )
    if loose:
        print(f"{PROG}: note: {len(loose)} image(s) directly in {folder} belong to no sample sub-folder and are "
              "left out", file=sys.stderr)
    out_dir = _make_out_dir(args)
    from particle_gui.core.output.report import build_report  # matplotlib: imported only for reports

    with tqdm(total=1, unit="step", file=sys.stderr, disable=None, dynamic_ncols=True) as bar:

        def progress(done: int, total: int, message: str) -> None:
            bar.total = total
            bar.set_postfix_str(message, refresh=False)
            bar.update(done - bar.n)

        try:
            result = build_report(
                samples, out_dir, params,
                pixel_size_nm=args.pixel_size_nm, scale_bar_nm=args.scale_bar_nm, profiles=_profiles(args),
                progress=progress, command=[PROG, *argv], provenance=getattr(args, "provenance", None),
                jobs=args.jobs,
            )
        except ExportError as exc:
            bar.write(f"{PROG}: {exc}", file=sys.stderr)
            return EXIT_FAILED
    for record in result.failed:
        print(f"{PROG}: {record.outcome.path}: {record.outcome.row['status']}", file=sys.stderr)
    for warning in result.warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    for verdict in result.verdicts:
        print(verdict)
    print(
        f"{PROG}: {len(result.samples)} sample(s), {result.n_images - len(result.failed)} of {result.n_images} "
        f"image(s) analysed, {len(result.failed)} failed; report in {result.pdf_path}",
        file=sys.stderr,
    )
    return EXIT_FAILED if result.failed else EXIT_OK

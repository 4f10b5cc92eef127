"""The files of one analysed image from the window: the batch files plus Excel and a summary JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from particle_gui.core.output import batch, export
from particle_gui.core.document import ImageDocument
from particle_gui.core.editing.history import EDIT_KINDS
from particle_gui.core.analysis.pipeline import complete_shapes


def write_document_files(document: ImageDocument, out_dir: str | Path) -> list[Path]:
    """Write the command line's files for ``document``'s result; returns the paths.

    The files are its particle table as Excel and a summary JSON (calibration, params, summary,
    hand-edit counts, warnings).

    The particle table gains a ``hand_edited`` column; shape classes still pending are computed
    first (exports always carry them).

    Raises
    ------
    ParticleGuiError, OSError
        The document has no result, or a file cannot be written.
    """
    if document.result is None:
        raise ValueError("the document has no result to write")
    if document.result.shapes_pending:
        document.result = complete_shapes(document.result, document.image.grey)
    result = document.result
    corrections = document.corrections
    if corrections is not None:
        labels = corrections.labels
        edited = np.unique(labels[labels != corrections.base])
        particles = result.particles.assign(hand_edited=np.isin(result.particles["id"].to_numpy(), edited))
        result = dataclasses.replace(result, particles=particles)
    counts = corrections.counts if corrections is not None else dict.fromkeys(EDIT_KINDS, 0)

    out_dir = Path(out_dir)
    stem = document.path.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    written = list(batch.write_image_outputs(out_dir, stem, document.image, result))
    summary_path = out_dir / f"{stem}_summary.json"
    record = {
        "image": document.path.name,
        "calibration": result.calibration.__dict__,
        "params": result.params.to_dict(),
        "summary": result.summary.to_dict(),
        "manual_edits": {"deleted": counts["delete"], "merged": counts["merge"], "split": counts["split"],
                         "added": counts["add"], "brush_strokes": counts["paint"], "eraser_strokes": counts["erase"]},
        "warnings": list(result.warnings),
    }
    export.atomic_write_text(summary_path, json.dumps(record, indent=1, default=float))
    excel_path = out_dir / f"{stem}_particles.xlsx"
    export.write_particles_excel(excel_path, result.particles, result.summary)
    return [*written, summary_path, excel_path]

"""Fit the polarity model's weights on the EMPS training split (never the validation split).

Prints the weights to paste into ``particle_gui/core/analysis/polarity.py`` and the 5-fold
cross-validated accuracy. Usage: ``python -m benchmarks.fit_polarity``.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from evaluation import emps
from particle_gui.core.io.databar import detect_data_bar
from particle_gui.core.io.loading import load_image
from particle_gui.core.params import PreprocessParams
from particle_gui.core.analysis.polarity import detect_polarity, polarity_features
from particle_gui.core.analysis.preprocess import preprocess
from particle_gui.core.analysis.threshold import global_threshold


def main() -> int:
    train, _ = emps.load_split()
    features, truth, current = [], [], []
    for name in train:
        image = load_image(emps.DATA_DIR / "images" / f"{name}.png")
        _, labels = emps.load_pair(name)
        if labels.max() == 0:
            continue
        grey = image.grey
        bar = detect_data_bar(grey)
        rows = bar.first_row if bar else grey.shape[0]
        grey, labels = preprocess(grey, PreprocessParams())[:rows], labels[:rows]
        inside = labels > 0
        threshold = global_threshold(grey, "otsu")
        features.append(polarity_features(grey, threshold))
        truth.append(int(grey[inside].mean() > grey[~inside].mean()))
        current.append(int(detect_polarity(grey, threshold) == "bright"))
    x, y = np.array(features), np.array(truth)
    model = LogisticRegression(C=1.0, max_iter=2000)
    accuracy = cross_val_score(model, x, y, cv=5).mean()
    model.fit(x, y)
    print(f"{len(y)} training images; 5-fold CV accuracy {accuracy:.3f}")
    print(f"shipped model accuracy on all training images {np.mean(np.array(current) == y):.3f}")
    print("POLARITY_WEIGHTS =", np.round(model.coef_[0], 3).tolist())
    print("POLARITY_INTERCEPT =", round(float(model.intercept_[0]), 3))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Regenerate the PCB inspection model from scratch: render, train, evaluate, export to ONNX.

    MUJOCO_GL=egl python src/perception_pkg/scripts/train_pcb_inspector.py

1. Renders labelled camera frames of good and defective boards with `pcb_scene` (fixed seeds:
   training, validation and a held-out test set that is used once, at the end).
2. Turns each frame into features with `inspection.preprocess`, the same code the node runs.
3. Trains StandardScaler + MLPClassifier (scikit-learn), choosing the hidden layer size and the
   L2 penalty on the validation set.
4. Exports the pipeline with skl2onnx, checks that onnxruntime gives the same probabilities, and
   reports the held-out accuracy of the exported model with its confusion matrix.
5. Writes `perception_pkg/models/pcb_inspector.onnx` and `pcb_inspector.json` (the model card).

The same seeds give the same data and the same model (on one machine; another CPU or GL driver
may differ in the last bits). Nothing is downloaded.

PCB 검사 모델을 처음부터 다시 만듭니다: 시뮬레이터로 데이터를 렌더링하고, scikit-learn으로
학습하고, 따로 떼어 둔 시험 세트로 정확도를 잰 뒤 ONNX로 내보냅니다.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

os.environ.setdefault("MUJOCO_GL", "egl")

DEFAULT_OUT_DIR = Path(__file__).resolve().parents[1] / "perception_pkg" / "models"
MODEL_SEED = 0
ONNX_OPSETS = {"": 17, "ai.onnx.ml": 3}  # loads in onnxruntime >= 1.14 (Humble-era robots too)
GRID = [((32,), 1e-3), ((32,), 1e-2), ((64,), 1e-3), ((64,), 1e-2)]  # (hidden layers, alpha)


@dataclass(frozen=True)
class Split:
    name: str
    seed: int
    n_per_class: int


SPLITS = (  # the training set is rendered in two halves so two cores can share the work
    Split("train_a", 1001, 500),
    Split("train_b", 1002, 500),
    Split("validation", 2001, 100),
    Split("test", 3001, 150),
)


def render_features(split: Split) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (N, D), labels (N,) and a found-the-board mask (N,) for one split."""
    from perception_pkg.inspection import FEATURE_COUNT, preprocess
    from perception_pkg.pcb_scene import iter_dataset

    features, labels, found = [], [], []
    for frame, label in iter_dataset(split.n_per_class, split.seed):
        x, _ = preprocess(frame)
        found.append(x is not None)
        features.append(np.zeros((1, FEATURE_COUNT), np.float32) if x is None else x)
        labels.append(label)
    return np.concatenate(features), np.array(labels), np.array(found)


def make_classifier(hidden: tuple[int, ...], alpha: float):
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    mlp = MLPClassifier(hidden, alpha=alpha, max_iter=500, random_state=MODEL_SEED)
    return Pipeline([("scale", StandardScaler()), ("mlp", mlp)])


def export_onnx(pipeline, feature_count: int) -> bytes:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    onx = to_onnx(
        pipeline,
        initial_types=[("features", FloatTensorType([None, feature_count]))],
        options={id(pipeline.steps[-1][1]): {"zipmap": False}},  # plain probability tensor
        target_opset=ONNX_OPSETS,
    )
    onx.doc_string = "Root&Route PCB inspector: preprocess with perception_pkg.inspection"
    return onx.SerializeToString()


def main() -> None:
    import onnxruntime as ort
    import skl2onnx
    import sklearn
    from sklearn.metrics import confusion_matrix

    from perception_pkg.inspection import FEATURE_COUNT, NO_BOARD, POOL_PX, RECTIFIED_SIZE_PX
    from perception_pkg.pcb_images import LABELS, LABELS_KO

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--workers", type=int, default=2, help="rendering processes")
    args = parser.parse_args()

    start_s = time.monotonic()
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        rendered = dict(
            zip([s.name for s in SPLITS], pool.map(render_features, SPLITS), strict=True)
        )
    render_s = time.monotonic() - start_s
    train = [rendered["train_a"], rendered["train_b"]]
    x_train = np.concatenate([x[f] for x, _, f in train])  # frames without a board: no lesson
    y_train = np.concatenate([y[f] for _, y, f in train])
    x_val, y_val, found_val = rendered["validation"]
    x_test, y_test, found_test = rendered["test"]
    print(f"rendered {sum(len(r[1]) for r in rendered.values())} frames in {render_s:.0f} s")

    best = None
    for hidden, alpha in GRID:
        clf = make_classifier(hidden, alpha).fit(x_train, y_train)
        val_acc = float(np.mean((clf.predict(x_val) == y_val) & found_val))
        print(f"  hidden={hidden} alpha={alpha:g}: validation accuracy {val_acc:.3f}")
        if best is None or val_acc > best[0]:
            best = (val_acc, hidden, alpha, clf)
    val_acc, hidden, alpha, clf = best

    onnx_bytes = export_onnx(clf, FEATURE_COUNT)
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    onnx_prob = session.run(None, {"features": x_test})[1]
    max_diff = float(np.abs(onnx_prob - clf.predict_proba(x_test)).max())
    assert max_diff < 1e-3, f"ONNX and scikit-learn disagree by {max_diff}"
    predicted = np.where(found_test, np.argmax(onnx_prob, axis=1), len(LABELS))  # no board: wrong
    accuracy = float(np.mean(predicted == y_test))
    columns = [*LABELS, NO_BOARD]
    matrix = confusion_matrix(y_test, predicted, labels=range(len(columns)))[: len(LABELS)]
    train_s = time.monotonic() - start_s - render_s

    args.out_dir.mkdir(parents=True, exist_ok=True)
    model_path = args.out_dir / "pcb_inspector.onnx"
    model_path.write_bytes(onnx_bytes)
    card = {
        "model": "StandardScaler + MLPClassifier (scikit-learn), exported with skl2onnx",
        "labels": list(LABELS),
        "labels_ko": [LABELS_KO[label] for label in LABELS],
        "input": {
            "name": "features",
            "feature_count": FEATURE_COUNT,
            "rectified_size_px": list(RECTIFIED_SIZE_PX),
            "pool_px": POOL_PX,
            "preprocess": "perception_pkg.inspection.preprocess",
        },
        "outputs": {"label": "int64 (N,)", "probabilities": "float32 (N, 4), order of labels"},
        "hyperparameters": {"hidden_layer_sizes": list(hidden), "alpha": alpha},
        "validation_accuracy": round(val_acc, 4),
        "held_out_accuracy": round(accuracy, 4),
        "confusion_matrix": {
            "rows_true": list(LABELS),
            "columns_predicted": columns,
            "counts": matrix.tolist(),
        },
        "splits": [asdict(s) for s in SPLITS],
        "model_seed": MODEL_SEED,
        "frames_without_board": {n: int((~r[2]).sum()) for n, r in rendered.items()},
        "onnx_opsets": ONNX_OPSETS,
        "versions": {
            "scikit-learn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnxruntime": ort.__version__,
        },
    }
    card_path = model_path.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    print(f"chose hidden={hidden} alpha={alpha:g} (validation accuracy {val_acc:.3f})")
    print(f"held-out test accuracy of the ONNX model: {accuracy:.3f} on {len(y_test)} frames")
    print("confusion matrix (rows: true, columns: predicted " + ", ".join(columns) + "):")
    for label, row in zip(LABELS, matrix, strict=True):
        print(f"  {label:>18} " + " ".join(f"{n:4d}" for n in row))
    print(f"wrote {model_path} ({model_path.stat().st_size / 1024:.0f} KiB) and {card_path.name}")
    print(f"time: rendering {render_s:.0f} s, training and export {train_s:.0f} s")


if __name__ == "__main__":
    main()

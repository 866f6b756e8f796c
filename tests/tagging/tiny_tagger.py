"""A tiny WD14-shaped tagger built with the ``onnx`` package: outputs are a known function of the image.

The graph takes float32 ``[N, H, W, 3]`` NHWC BGR 0..255 (v3 names ``input``/``output`` with a dynamic
batch, or v2 names ``input_1:0``/``predictions_sigmoid`` with batch fixed to 1) and computes
``sigmoid(K * (mean_bgr / 255 @ W + c))``: every score saturates near 0 or 1 and depends only on the
mean colour of the padded, resized input (see TAGS for when each tag fires).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

K = 40.0
RATING, GENERAL, CHARACTER = 9, 0, 4


def _const(p: float) -> tuple[tuple[float, float, float], float]:
    """Weights for a constant score ``p``."""
    return (0.0, 0.0, 0.0), math.log(p / (1 - p)) / K


# (name, category, (w_b, w_g, w_r), bias): score = sigmoid(K * (b*w_b + g*w_g + r*w_r + bias)).
TAGS: list[tuple[str, int, tuple[float, float, float], float]] = [
    ("general", RATING, (1 / 3, 1 / 3, 1 / 3), -0.5),  # mean > 0.5
    ("sensitive", RATING, (-1 / 3, -1 / 3, -1 / 3), 0.5),  # mean < 0.5
    ("questionable", RATING, *_const(0.0003)),
    ("explicit", RATING, *_const(0.0003)),
    ("red_theme", GENERAL, (-0.5, -0.5, 1.0), -0.6),
    ("green_theme", GENERAL, (-0.5, 1.0, -0.5), -0.6),
    ("blue_theme", GENERAL, (1.0, -0.5, -0.5), -0.6),
    ("white_background", GENERAL, (1 / 3, 1 / 3, 1 / 3), -0.9),  # mean > 0.9
    ("dark", GENERAL, (-1 / 3, -1 / 3, -1 / 3), 0.2),  # mean < 0.2
    ("^_^", GENERAL, (-1.0, 0.5, 0.5), -0.75),  # yellow
    (">_<", GENERAL, *_const(0.40)),  # passes 0.35, fails 0.5
    ("hatsune_miku_(vocaloid)", CHARACTER, (0.5, 0.5, -1.0), -0.75),  # cyan
    ("red_hero_(series)", CHARACTER, (-0.5, -0.5, 1.0), -0.8),
    ("uncertain_character", CHARACTER, *_const(0.80)),  # passes 0.35, fails 0.85
]


def expected_scores(rgb: tuple[float, float, float]) -> dict[str, float]:
    """Scores for an input whose mean colour is ``rgb`` (0..255): the test oracle."""
    r, g, b = (channel / 255 for channel in rgb)
    return {
        name: 1 / (1 + math.exp(-K * (b * w[0] + g * w[1] + r * w[2] + bias))) for name, _, w, bias in TAGS
    }


def build_tiny_tagger(folder: Path, *, fixed_batch: bool = False, size: int = 448) -> Path:
    """Write ``model.onnx`` + ``selected_tags.csv`` into ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = np.array([w for _, _, w, _ in TAGS], dtype=np.float32).T  # [3, n_tags]
    bias = np.array([b for *_, b in TAGS], dtype=np.float32)
    in_name, out_name = ("input_1:0", "predictions_sigmoid") if fixed_batch else ("input", "output")
    batch: int | str = 1 if fixed_batch else "batch_size"
    graph = helper.make_graph(
        [
            helper.make_node("Identity", [in_name], ["x"]),
            helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1, 2], keepdims=0),
            helper.make_node("Mul", ["mean", "scale"], ["unit"]),
            helper.make_node("MatMul", ["unit", "W"], ["lin"]),
            helper.make_node("Add", ["lin", "c"], ["logit0"]),
            helper.make_node("Mul", ["logit0", "k"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], [out_name]),
        ],
        "tiny_wd14",
        [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, [batch, size, size, 3])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [batch, len(TAGS)])],
        initializer=[
            numpy_helper.from_array(np.array(1 / 255, dtype=np.float32), "scale"),
            numpy_helper.from_array(weights, "W"),
            numpy_helper.from_array(bias, "c"),
            numpy_helper.from_array(np.array(K, dtype=np.float32), "k"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, folder / "model.onnx")
    rows = ["tag_id,name,category,count"]
    rows += [
        f"{9999999 if cat == RATING else 1000 + i},{name},{cat},{100 - i}"
        for i, (name, cat, _, _) in enumerate(TAGS)
    ]
    (folder / "selected_tags.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder

import csv

import numpy as np
from osgeo import gdal

from browser import look_at
from synthetic import CLASS_NAMES, write_scene
from training.data.chips import create_chips
from training.config import ChipsConfig, EvaluateConfig, TrainConfig
from training.learn.evaluate import evaluate_model
from training.progress import Progress
from training.learn.train import train


def test_evaluate_writes_scores_a_report_and_pictures(tmp_path):
    image, labels = write_scene(tmp_path, 128, 128)
    create_chips(ChipsConfig(str(image), str(tmp_path / "chips"), str(labels), chip_size=32))
    model = train(TrainConfig(str(tmp_path / "m.keras"), chips_dir=str(tmp_path / "chips"), epochs=1, batch_size=8,
                              model_options={"base_filters": 4, "depth": 2})).model_path
    messages = []
    result = evaluate_model(EvaluateConfig(model, str(tmp_path / "chips"), str(tmp_path / "scores.csv"),
                                           str(tmp_path / "report.html"), str(tmp_path / "chips.png"), preview_chips=3),
                            Progress(lambda percent, message: messages.append(message)))
    assert [m for m in messages if m][:3] == [f"Loading the model {model}…", "Reading 16 chips…",
                                              "Scoring 16 chips…"]
    matrix = np.asarray(result.metrics["confusion_matrix"])
    assert matrix.sum() == 16 * 32 * 32 and result.metrics["pixel_accuracy"] == np.trace(matrix) / matrix.sum()
    with open(tmp_path / "scores.csv") as handle:
        rows = list(csv.reader(handle))
    assert [r[0] for r in rows[1:4]] == CLASS_NAMES and rows[-1][0] == "pixel accuracy"
    page = (tmp_path / "report.html").read_text()
    assert all(heading in page for heading in ("<h1>GeoSeg evaluation</h1>", "Scores on the chips",
                                               "<h2>Confusion matrix</h2>"))
    assert all(name in page for name in CLASS_NAMES + ["chip_000000_000000"])  # the legend and the chips shown
    png = gdal.Open(str(tmp_path / "chips.png"))
    assert (png.RasterXSize, png.RasterYSize) == (3 * 32 + 2 * 4, 3 * 32 + 2 * 4)
    seen = look_at(tmp_path / "report.html", tmp_path / "report.png")
    assert len(seen["images"]) == 2 and seen["images"][-1] == png.RasterXSize  # confusion matrix, then the chips
    assert seen["tables"] == 1  # the scores

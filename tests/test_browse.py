import json

import cv2
import numpy as np

from lqpose.browse import LEFT, MIDDLE, RIGHT, draw_targets, heatmap_panel
from lqpose.cli import main
from lqpose.codec import codec_for
from lqpose.config import load_config
from lqpose.data.topdown import EpochSampler
from lqpose.engine.train import TrainConfig, training_set
from lqpose.keypoints import COCO17


def test_browse_shows_the_first_people_a_run_draws_with_their_lq_member(tiny_config, tmp_path, capsys):
    """The sheet holds the first `--num` people of the epoch in the training sampler's order, each as WQ crop, LQ
    crop and targets; samples.json says what made each LQ crop, as the training dataset draws it."""
    out = tmp_path / "browse"
    args = ["browse", str(tiny_config), "--out", str(out), "--num", "5", "--cols", "2", "--epoch", "1",
            "--set", "data.lq.mode=mix"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "samples.json").read_text())
    cfg = load_config(TrainConfig, tiny_config, ["data.lq.mode=mix"])
    ds = training_set(cfg)
    sampler = EpochSampler(len(ds), cfg.optim.batch_size, cfg.seed)
    sampler.set_epoch(1)
    assert [s["index"] for s in summary["samples"]] == list(sampler)[:5]  # what the run trains on first
    ds.set_epoch(1)
    for s in summary["samples"]:
        sample = ds[s["index"]]
        assert (s["lq_type"], s["lq_severity"]) == (sample["lq_type"], sample["lq_severity"])
        assert s["trained_joints"] == int((sample["weights"] > 0).sum())
    assert summary["people"] == 12 and summary["lq"] is True
    # 64x48 input -> panels enlarged 3x (at least 192 px high): 3 panels of 144+4 px, 192 + 34 caption rows;
    # 5 tiles in 2 columns -> 3 rows of 226 + 6 px, 2 columns of 444 + 6 px
    sheet = cv2.imread(str(out / "samples.png"))
    assert sheet.shape == (3 * 232, 2 * 450, 3)
    printed = capsys.readouterr().out
    assert printed.startswith("5 of 12 training people, epoch 1; LQ: ") and printed.strip().endswith("samples.png")

    assert main(["browse", str(tiny_config), "--out", str(tmp_path / "plain"), "--num", "1"]) == 0  # no LQ member
    assert cv2.imread(str(tmp_path / "plain/samples.png")).shape == (232, 2 * (144 + 4) + 6, 3)
    assert "; no LQ member" in capsys.readouterr().out


def test_targets_are_drawn_where_they_are_and_coloured_by_side():
    crop = np.zeros((64, 48, 3), np.uint8)
    kps = np.zeros((17, 3), np.float32)
    weights = np.zeros(17, np.float32)
    for name, xy in (("left_shoulder", (10, 20)), ("right_shoulder", (30, 20)), ("nose", (20, 8))):
        k = COCO17.names.index(name)
        kps[k, :2], weights[k] = xy, 1.0
    drawn = draw_targets(crop, kps, weights, COCO17, 3)
    assert drawn.shape == (192, 144, 3)
    # a crop pixel centre (x, y) is the centre of its 3x3 block: (3x + 1, 3y + 1)
    assert tuple(drawn[61, 31]) == LEFT and tuple(drawn[61, 91]) == RIGHT and tuple(drawn[25, 61]) == MIDDLE
    assert tuple(drawn[61, 61]) == MIDDLE  # the line across the body, between a left and a right joint
    assert not drawn[150:].any()  # nothing where no joint is trained

    codec = codec_for((48, 64))
    heatmaps, _ = codec.encode(np.concatenate([kps[:, :2], weights[:, None] * 2], 1))
    panel = heatmap_panel(np.full((64, 48, 3), 128, np.uint8), heatmaps, 3)
    red = panel[..., 0].astype(int) - panel[..., 2]  # jet: red where the targets peak
    for x, y in ((10, 20), (30, 20), (20, 8)):
        assert red[3 * y + 1, 3 * x + 1] > 100  # at each joint
    assert tuple(panel[3 * 50 + 1, 3 * 20 + 1]) == (64, 64, 64)  # the crop dimmed by half where no target reaches

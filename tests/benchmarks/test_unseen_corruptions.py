import sys
import types

import numpy as np

from lqpose.data.readers import read_lspet


class Shifted:
    """Predicts each person's labelled joints moved by `dx` px (0: exactly)."""

    def __init__(self, dx: float):
        self.dx = dx

    def predict(self, people, spec, progress=True):
        moved = [(p.keypoints + [self.dx, 0, 0]).ravel().tolist() for p in people]
        return [{"image_id": p.image_id, "ann_id": p.ann_id, "keypoints": k, "score": 1.0, "category_id": 1}
                for p, k in zip(people, moved, strict=True)]  # fmt: skip


def test_corruptions_are_seeded_per_image_and_scored_per_type(benchmark_script, shared_data, monkeypatch, capsys):
    uc = benchmark_script("unseen_corruptions")
    assert uc.corruption_seed("a/im01.jpg", "snow", 3) == uc.corruption_seed("b/im01.jpg", "snow", 3)  # by file name
    assert uc.corruption_seed("a/im01.jpg", "snow", 3) != uc.corruption_seed("a/im01.jpg", "snow", 4)
    seen = []

    def corrupt(img, corruption_name, severity):  # imagecorruptions' call, recorded; the image darkened
        seen.append((corruption_name, severity, np.random.randint(1 << 30)))
        return (img // 2).astype(np.uint8)

    monkeypatch.setitem(sys.modules, "imagecorruptions", types.SimpleNamespace(corrupt=corrupt))
    gt = read_lspet(shared_data / "lspet", "test")
    people = [i for i in gt.instances if i.num_visible > 0][:3]
    uc.report("LSPET test", gt, people, {"perfect": Shifted(0), "lost": Shifted(1000)}, [1, 5])
    out = capsys.readouterr().out
    assert "| clean | | 1.000 | 0.000 | +1.000 |" in out
    assert "| zoom_blur | unseen | 1.000 | 0.000 | +1.000 |" in out
    assert "| **mPC, unseen** | | 1.000 | 0.000 | +1.000 [+1.000, +1.000] |" in out
    assert len(seen) == 3 * 2 * len(uc.UNSEEN + uc.SAME_KIND)  # each image once per type and severity
    first = [s for s in seen if s[:2] == ("snow", 5)]
    np.random.seed(uc.corruption_seed(people[0].image_path, "snow", 5))
    assert first[0][2] == np.random.randint(1 << 30)  # numpy's generator seeded for that image, type and severity

"""Pack what round 35 reads from ../shared/data into three stored zips under .gpu/, for the device tool.

The device machine receives only the repository, at most 64 MiB a call, and keeps /tmp between calls while it is
warm (30 s). LSPET's train images alone are 145 MB, so the data travels in three calls, one zip each, unpacked with
`python3 -m zipfile -e .gpu/dN.zip /tmp/`; the third call runs run_on_gpu.sh. ZIP_STORED: JPEGs do not compress,
and a zip's per-file overhead is a fifth of a tar's 1 KB, which is what keeps each call under the limit.
Run from the repository root; `.gpu/` must be ignored (`echo /.gpu/ >> .git/info/exclude`). The device image has
no pycocotools: download its cp312 wheel into .gpu/whl (the device README's `pip download` line). Then three runs,
each within 30 s of the last one's answer so that the machine stays warm:
  1. carry [.gpu/d1.zip, .gpu/whl]: `python3 -m zipfile -e .gpu/d1.zip /tmp/ && python3 -m pip install -q
     --no-index --no-deps --target /tmp/site .gpu/whl/*.whl`
  2. carry [.gpu/d2.zip]: `python3 -m zipfile -e .gpu/d2.zip /tmp/`
  3. carry [.gpu/d3.zip], timeout_s 520: `python3 -m zipfile -e .gpu/d3.zip /tmp/ && export PYTHONPATH=/tmp/site
     && bash configs/lspet/round35/run_on_gpu.sh 2>&1 | tee $OUT/driver.log`
"""

import os
import sys
import zipfile
from pathlib import Path

SHARED = Path("../shared/data")
CHUNKS = 3


def wanted() -> list[str]:
    names = ["lspet/joints.mat", "models/yolox/yolox_nano.onnx"]
    names += ["coco-mini/annotations/person_keypoints_train2017.json"]
    names += [f"coco-mini/train2017/{f}" for f in sorted(os.listdir(SHARED / "coco-mini/train2017"))]
    names += [f"lspet/images/im{i:05d}.jpg" for i in range(1, 9001)]  # the train split only
    return names


def main() -> int:
    names = wanted()
    missing = [n for n in names if not (SHARED / n).is_file()]
    if missing:
        print(f"{SHARED / missing[0]}: missing ({len(missing)} files in all)", file=sys.stderr)
        return 1
    per_chunk = sum((SHARED / n).stat().st_size for n in names) / CHUNKS + 2**20
    chunks: list[list[str]] = [[]]
    size = 0
    for n in names:
        s = (SHARED / n).stat().st_size
        if size + s > per_chunk:
            chunks.append([])
            size = 0
        chunks[-1].append(n)
        size += s
    Path(".gpu").mkdir(exist_ok=True)
    for i, chunk in enumerate(chunks, 1):
        out = Path(f".gpu/d{i}.zip")
        tmp = out.with_suffix(".zip.tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            for n in chunk:
                z.write(SHARED / n, arcname=f"data/{n}")
        tmp.replace(out)
        print(f"{out}: {len(chunk)} files, {out.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

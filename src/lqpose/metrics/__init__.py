"""Official-style metrics: COCO/CrowdPose OKS AP through pycocotools, MPII PCKh."""

from .coco import coco_keypoint_ap, oks_nms, to_coco_gt
from .pck import pck
from .pckh import pckh

__all__ = ["coco_keypoint_ap", "oks_nms", "pck", "pckh", "to_coco_gt"]

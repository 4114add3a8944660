"""Datasets as one record type, top-down crops (UDP), augmentation and paired WQ/LQ samples."""

from .readers import PoseSet, read_coco, read_detections, read_mpii, read_posetrack_folder
from .records import Instance

__all__ = ["Instance", "PoseSet", "read_coco", "read_detections", "read_mpii", "read_posetrack_folder"]

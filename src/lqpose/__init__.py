"""lqpose: human pose estimation that stays accurate on low-quality images (CKD-LQPose)."""

__version__ = "0.1.0"

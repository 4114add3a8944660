"""Inference on images, folders and videos: person detectors, batched top-down pose, drawing."""

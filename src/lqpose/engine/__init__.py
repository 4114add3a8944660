"""Training (single process or torchrun DDP), checkpoints with exact resume, and evaluation."""

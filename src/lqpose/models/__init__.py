"""Networks. The student is the only one deployed; teacher, PatchWQ-GAN, fusion and RTD are training-only."""

from .student import Student, StudentConfig, build_student

__all__ = ["Student", "StudentConfig", "build_student"]

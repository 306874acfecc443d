"""Workstation stage: MNIST loading, model definitions, augmentation and training."""

"""LoRA Studio: a web app that takes a folder of images to a trained LoRA."""

__version__ = "0.1.0"

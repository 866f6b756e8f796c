"""LoRA Studio's own WD14 tagger: SmilingWolf's ONNX taggers on onnxruntime, run as a job subprocess.

Run it with ``python -m lora_studio.workers.wd14 --dataset-dir DIR --models-dir DIR [options]``.
"""

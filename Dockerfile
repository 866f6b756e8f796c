# LoRA Studio on a CUDA GPU (VastAI, RunPod, any Docker host with the NVIDIA runtime).
#   docker build -t lora-studio .
#   docker run --gpus all -p 7860:7860 -v /data:/workspace lora-studio
# The app listens on 0.0.0.0:7860 inside the container, so a login is required: set LORA_STUDIO_AUTH=user:pass
# or read the generated password in the container log.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    LORA_STUDIO_HOME=/workspace \
    GRADIO_TEMP_DIR=/workspace/.gradio-tmp \
    GRADIO_SERVER_NAME=0.0.0.0 \
    PORT=7860

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-pip git ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/lora-studio
COPY . .
# The app's venv, then sd-scripts at its pinned commit in its own venv with a CUDA torch.
RUN scripts/setup_venv.sh app \
 && .venv/bin/python -m trainer.install

VOLUME ["/workspace"]
EXPOSE 7860
CMD ["./run.sh"]

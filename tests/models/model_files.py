"""Small safetensors fixtures with the real key names and shapes of each family (data is a sparse hole)."""

from __future__ import annotations

import json
from pathlib import Path

from lora_studio.services.models.safetensors_header import write_safetensors

Tensors = dict[str, tuple[str, tuple[int, ...]]]

VAE_4CH: Tensors = {
    "encoder.conv_in.weight": ("F16", (128, 3, 3, 3)),
    "decoder.conv_in.weight": ("F16", (512, 4, 3, 3)),
    "post_quant_conv.weight": ("F16", (4, 4, 1, 1)),
}
VAE_16CH: Tensors = {
    "encoder.conv_in.weight": ("F32", (128, 3, 3, 3)),
    "decoder.conv_in.weight": ("F32", (512, 16, 3, 3)),
}
CLIP_L: Tensors = {
    "text_model.embeddings.token_embedding.weight": ("F16", (49408, 768)),
    "text_model.encoder.layers.0.self_attn.q_proj.weight": ("F16", (768, 768)),
}
CLIP_G: Tensors = {
    "text_model.embeddings.token_embedding.weight": ("F16", (49408, 1280)),
    "text_model.encoder.layers.0.self_attn.q_proj.weight": ("F16", (1280, 1280)),
    "text_projection.weight": ("F16", (1280, 1280)),
}
T5XXL_FP8: Tensors = {
    "shared.weight": ("F8_E4M3", (32128, 4096)),
    "encoder.block.0.layer.0.SelfAttention.q.weight": ("F8_E4M3", (4096, 4096)),
    "encoder.final_layer_norm.weight": ("F16", (4096,)),
}


def _prefixed(prefix: str, tensors: Tensors) -> Tensors:
    return {prefix + key: value for key, value in tensors.items()}


SD15: Tensors = {
    "model.diffusion_model.input_blocks.0.0.weight": ("F16", (320, 4, 3, 3)),
    "model.diffusion_model.input_blocks.1.1.proj_in.weight": ("F16", (320, 320, 1, 1)),
    **_prefixed("cond_stage_model.transformer.", CLIP_L),
    **_prefixed("first_stage_model.", VAE_4CH),
}
SD2: Tensors = {
    "model.diffusion_model.input_blocks.0.0.weight": ("F16", (320, 4, 3, 3)),
    "cond_stage_model.model.token_embedding.weight": ("F16", (49408, 1024)),
    **_prefixed("first_stage_model.", VAE_4CH),
}
SDXL: Tensors = {
    "model.diffusion_model.input_blocks.0.0.weight": ("F16", (320, 4, 3, 3)),
    "model.diffusion_model.label_emb.0.0.weight": ("F16", (1280, 2816)),
    **_prefixed("conditioner.embedders.0.transformer.", CLIP_L),
    "conditioner.embedders.1.model.token_embedding.weight": ("F16", (49408, 1280)),
    **_prefixed("first_stage_model.", VAE_4CH),
}


def sd3(blocks: int, width: int, *, text_encoders: bool = False) -> Tensors:
    tensors: Tensors = {
        f"model.diffusion_model.joint_blocks.{n}.context_block.attn.qkv.weight": ("F16", (3 * width, width))
        for n in range(blocks)
    }
    tensors["model.diffusion_model.x_embedder.proj.weight"] = ("F16", (width, 16, 2, 2))
    tensors.update(_prefixed("first_stage_model.", VAE_16CH))
    if text_encoders:
        tensors.update(_prefixed("text_encoders.clip_l.transformer.", CLIP_L))
        tensors.update(_prefixed("text_encoders.clip_g.transformer.", CLIP_G))
    return tensors


def flux(*, dev: bool) -> Tensors:
    tensors: Tensors = {
        "double_blocks.0.img_attn.qkv.weight": ("BF16", (9216, 3072)),
        "double_blocks.1.img_attn.qkv.weight": ("BF16", (9216, 3072)),
        "single_blocks.0.linear1.weight": ("BF16", (21504, 3072)),
        "img_in.weight": ("BF16", (3072, 64)),
    }
    if dev:
        tensors["guidance_in.in_layer.weight"] = ("BF16", (3072, 256))
    return tensors


FLUX_DIFFUSERS_DEV: Tensors = {
    "transformer_blocks.0.attn.to_q.weight": ("BF16", (3072, 3072)),
    "single_transformer_blocks.0.attn.to_q.weight": ("BF16", (3072, 3072)),
    "time_text_embed.guidance_embedder.linear_1.weight": ("BF16", (3072, 256)),
}


def lora(prefixes: list[str], dim: int = 4) -> Tensors:
    tensors: Tensors = {}
    for prefix in prefixes:
        tensors[f"{prefix}.lora_down.weight"] = ("F32", (dim, 320))
        tensors[f"{prefix}.lora_up.weight"] = ("F32", (320, dim))
        tensors[f"{prefix}.alpha"] = ("F32", ())
    return tensors


LORA_SD15 = lora(
    ["lora_unet_down_blocks_0_attentions_0_proj_in", "lora_te_text_model_encoder_layers_0_self_attn_q_proj"]
)
LORA_SDXL = lora(
    [
        "lora_unet_input_blocks_4_1_proj_in",
        "lora_te1_text_model_encoder_layers_0_self_attn_q_proj",
        "lora_te2_text_model_encoder_layers_0_self_attn_q_proj",
    ]
)
LORA_FLUX = lora(["lora_unet_double_blocks_0_img_attn_qkv", "lora_unet_single_blocks_0_linear1"])
LORA_SD3 = lora(["lora_unet_joint_blocks_0_x_block_attn_qkv"])


def kohya_metadata(base: str = "v1-5-pruned-emaonly.safetensors", **extra: str) -> dict[str, str]:
    """The ``ss_*`` keys sd-scripts writes (values are strings), as in a real SD1.5 run."""
    metadata = {
        "ss_sd_model_name": base,
        "ss_base_model_version": "sd_v1",
        "ss_network_module": "networks.lora",
        "ss_network_dim": "8",
        "ss_network_alpha": "4.0",
        "ss_steps": "120",
        "ss_epoch": "3",
        "ss_num_epochs": "3",
        "ss_learning_rate": "0.0001",
        "ss_resolution": "(512, 512)",
        "ss_output_name": "mychar",
        "ss_tag_frequency": json.dumps(
            {"10_mychar": {"mychar": 12, "1girl": 10, "smile": 4}, "5_extra": {"1girl": 3, "outdoors": 2}}
        ),
        "modelspec.architecture": "stable-diffusion-v1/lora",
    }
    metadata.update(extra)
    return metadata


def write(path: Path, tensors: Tensors, metadata: dict[str, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_safetensors(path, tensors, metadata)
    return path

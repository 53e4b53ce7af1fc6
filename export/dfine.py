"""Export a ``transformers`` D-FINE detector to ONNX with the official D-FINE contract.

The graph takes ``images`` float32 [N,3,S,S] (RGB in [0,1], plain resize) and
``orig_target_sizes`` int64 [N,2] as (width, height), and returns ``labels`` int64 [N,K],
``boxes`` float32 [N,K,4] (x1,y1,x2,y2 in original pixels) and ``scores`` float32 [N,K].
Post-processing (sigmoid, top-K over queries×classes, no NMS) lives inside the graph, as in
the official export, so the edge runtime only filters and clips. Training side only.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import torch
from torch import nn
from transformers import DFineConfig, DFineForObjectDetection, HGNetV2Config

from edge.runtime import DFINE_INPUT_NAMES, DFINE_OUTPUT_NAMES
from export import torchscript_onnx_export
from export.simplify import check_and_simplify

INPUT_NAMES = list(DFINE_INPUT_NAMES)  # the official contract the edge checks at load
OUTPUT_NAMES = list(DFINE_OUTPUT_NAMES)
DEFAULT_OPSET = 17
SUPPORTED_OPSETS = (16, 17)


class DFineWithPostprocess(nn.Module):
    """``DFineForObjectDetection`` plus the official post-processing, as one traceable module.

    ``orig_target_sizes`` is (width, height), the official contract; ``transformers``'
    ``post_process_object_detection`` takes ``target_sizes`` as (height, width) instead.
    """

    def __init__(self, model: DFineForObjectDetection, num_top_queries: int | None = None) -> None:
        super().__init__()
        candidates = model.config.num_queries * (model.config.num_labels or 0)
        self.model = model
        self.num_top_queries = num_top_queries or model.config.num_queries
        if not 0 < self.num_top_queries <= candidates:
            raise ValueError(f"num_top_queries must be in 1..{candidates} (queries × classes)")

    def forward(self, images: torch.Tensor, orig_target_sizes: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outputs = self.model(pixel_values=images)
        logits, boxes = outputs.logits, outputs.pred_boxes  # [N,Q,C]; [N,Q,4] cx,cy,w,h in [0,1]
        num_classes = logits.shape[-1]
        centre, size = boxes[..., :2], boxes[..., 2:]
        xyxy = torch.cat([centre - 0.5 * size, centre + 0.5 * size], dim=-1)
        xyxy = xyxy * orig_target_sizes.repeat(1, 2).unsqueeze(1).to(xyxy.dtype)  # (w, h, w, h)

        scores, index = torch.topk(logits.sigmoid().flatten(1), self.num_top_queries, dim=-1)
        labels = index % num_classes
        query = torch.div(index, num_classes, rounding_mode="floor")
        xyxy = xyxy.gather(1, query.unsqueeze(-1).expand(-1, -1, 4))
        return labels, xyxy, scores


# Written into every exported graph for people and tools. The runtime feeds the side the graph fixes (or
# detector.input_size when set, refusing a graph whose fixed side differs: edge.detect.check_detector_signature).
INPUT_SIZE_KEY = "liveguard.detector.input_size"


def export_dfine(
    model: DFineForObjectDetection,
    path: str | Path,
    input_size: int = 640,
    opset: int = DEFAULT_OPSET,
    num_top_queries: int | None = None,
    simplify: bool = True,
) -> Path:
    """Write ``model`` to ``path`` as ONNX with the official contract; returns the path.

    Fixed ``input_size``² input, dynamic batch, top-``num_top_queries`` (default: the model's
    query count, 300 for the released models), the side in the metadata (``INPUT_SIZE_KEY``). Opset 17 keeps LayerNormalization as one node
    (FP16 accuracy); opset 16 reproduces the official export. The file is checked with
    ``onnx.checker`` and simplified (:func:`export.simplify.check_and_simplify`). ``model``'s
    train/eval mode is restored afterwards.
    """
    if opset not in SUPPORTED_OPSETS:
        raise ValueError(f"opset must be one of {SUPPORTED_OPSETS}, got {opset}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = DFineWithPostprocess(model, num_top_queries)
    was_training = model.training
    wrapper.eval()
    # Two frames of different sizes, so that neither the batch nor a size is frozen into the trace.
    example = (torch.rand(2, 3, input_size, input_size), torch.tensor([[640, 480], [1280, 720]]))
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The tracer flags shape-dependent Python branches; with a fixed input side they are
            # constants by design (tests check other batch sizes against PyTorch).
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            torchscript_onnx_export(
                wrapper,
                example,
                path,
                input_names=INPUT_NAMES,
                output_names=OUTPUT_NAMES,
                dynamic_axes={name: {0: "N"} for name in INPUT_NAMES + OUTPUT_NAMES},
                opset_version=opset,
                do_constant_folding=True,
            )
    finally:
        model.train(was_training)
    path = check_and_simplify(path, simplify)
    graph = onnx.load(str(path))
    kept = [p for p in graph.metadata_props if p.key != INPUT_SIZE_KEY]
    del graph.metadata_props[:]
    graph.metadata_props.extend(kept)
    graph.metadata_props.add(key=INPUT_SIZE_KEY, value=str(input_size))
    onnx.save(graph, str(path))
    return path


def load_dfine(checkpoint: str | Path) -> DFineForObjectDetection:
    """A ``transformers`` D-FINE checkpoint directory (``config.json`` + weights), in eval mode.

    Fine-tuned with ``transformers``, or converted from an official D-FINE ``.pth`` with
    ``transformers``' own conversion script (``convert_d_fine_original_pytorch_checkpoint_to_hf.py``).
    """
    checkpoint = Path(checkpoint)
    if not (checkpoint / "config.json").is_file():
        raise FileNotFoundError(f"{checkpoint}: not a transformers checkpoint directory (no config.json)")
    model = DFineForObjectDetection.from_pretrained(str(checkpoint))
    return model.eval()


def dfine_n_config(num_labels: int = 2) -> DFineConfig:
    """D-FINE-N's architecture (HGNetV2-B0, 2 feature levels, 3 decoder layers; ~3.7 M parameters).

    The layout ``transformers``' conversion gives the released N model; used at random
    initialisation for CPU latency figures of a realistically sized detector.
    """
    backbone = HGNetV2Config(
        hidden_sizes=[128, 256, 512, 1024],
        stem_channels=[3, 16, 16],
        stage_in_channels=[16, 64, 256, 512],
        stage_mid_channels=[16, 32, 64, 128],
        stage_out_channels=[64, 256, 512, 1024],
        stage_num_blocks=[1, 1, 2, 1],
        stage_downsample=[False, True, True, True],
        stage_light_block=[False, False, True, True],
        stage_kernel_size=[3, 3, 5, 5],
        stage_numb_of_layers=[3, 3, 3, 3],
        depths=[1, 1, 2, 1],
        embedding_size=16,
        layer_type="basic",
        use_learnable_affine_block=True,
        out_indices=[3, 4],  # type: ignore[call-arg]  # taken through **kwargs
    )
    return DFineConfig(
        backbone_config=backbone,
        num_labels=num_labels,  # type: ignore[call-arg]  # taken through **kwargs
        num_queries=300,
        num_feature_levels=2,
        feat_strides=[16, 32],
        encoder_in_channels=[512, 1024],
        encode_proj_layers=[1],
        encoder_hidden_dim=128,
        encoder_ffn_dim=512,
        d_model=128,
        decoder_in_channels=[128, 128],
        decoder_ffn_dim=512,
        decoder_n_points=[6, 6],
        decoder_layers=3,
        depth_mult=0.5,
        hidden_expansion=0.34,
        max_num_bins=32,
    )


def tiny_dfine_config(num_labels: int = 2, num_queries: int = 100, hidden_dim: int = 32) -> DFineConfig:
    """A very small D-FINE (about 0.1 M parameters, HGNetV2 backbone) for tests and smoke runs.

    Same graph as the released models at toy widths: 2 decoder layers, 2 heads, no denoising
    queries. Sets ``max_num_bins`` (the old name ``reg_max`` is silently ignored).
    """
    backbone = HGNetV2Config(
        stem_channels=[3, 8, 8],
        stage_in_channels=[8, 16, 32, 64],
        stage_mid_channels=[8, 8, 16, 16],
        stage_out_channels=[16, 32, 64, 64],
        stage_num_blocks=[1, 1, 1, 1],
        stage_numb_of_layers=[1, 1, 1, 1],
        hidden_sizes=[16, 32, 64, 64],
        depths=[1, 1, 1, 1],
        embedding_size=8,
        out_indices=[2, 3, 4],  # type: ignore[call-arg]  # taken through **kwargs
    )
    return DFineConfig(
        backbone_config=backbone,
        num_labels=num_labels,  # type: ignore[call-arg]  # taken through **kwargs
        num_queries=num_queries,
        encoder_in_channels=[32, 64, 64],
        encoder_hidden_dim=hidden_dim,
        encoder_ffn_dim=2 * hidden_dim,
        encoder_attention_heads=2,
        d_model=hidden_dim,
        decoder_in_channels=[hidden_dim] * 3,
        decoder_ffn_dim=2 * hidden_dim,
        decoder_layers=2,
        decoder_attention_heads=2,
        num_denoising=0,
        max_num_bins=8,
        depth_mult=0.34,
        hidden_expansion=0.5,
        lqe_hidden_dim=8,
    )


def tiny_dfine_model(config: DFineConfig | None = None, seed: int = 0) -> DFineForObjectDetection:
    """A randomly initialised D-FINE (default :func:`tiny_dfine_config`) in eval mode.

    With ``transformers``' own initialisation a tiny net's activations vanish (about 1e-20
    after the backbone), every encoder score ties and the top-K query choice becomes
    arbitrary. He (convolutions) and Xavier (linear layers) re-initialisation keeps the
    outputs image-dependent, so that exports can be compared with PyTorch.
    """
    torch.manual_seed(seed)
    model = DFineForObjectDetection(config or tiny_dfine_config())
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            elif isinstance(module, nn.Linear):
                # Also the zero-initialised heads (sampling offsets, box deltas), so that every
                # part of the graph, GridSample included, carries the image.
                nn.init.xavier_uniform_(module.weight)
    return model.eval()

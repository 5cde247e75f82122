"""Export the fine-tuned model to ONNX (dynamic batch and sequence axes) and quantise it to int8 for CPU."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from classifiers.bert import ONNX_FILE, Encoder, length_batches, softmax
from classifiers.train.finetune import BertForLeadGen

log = logging.getLogger("qingyuan.train.export")

FP32_FILE = "model.fp32.onnx"


class _OnnxWrapper(torch.nn.Module):
    def __init__(self, model: BertForLeadGen) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return out["label_logits"], out["category_logits"]


def export_onnx(model_dir: Path, keep_fp32: bool = False, opset: int = 17) -> Path:
    """model_dir/model.int8.onnx from the saved torch model; the fp32 graph is removed unless keep_fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Eager attention exports as plain MatMul/Softmax, which onnxruntime's CPU graph optimiser handles better than
    # the masked, NaN-guarded graph traced from SDPA: 1.05x posts/s on the shipped model in three interleaved runs
    # (the two graphs' int8 probabilities differ by at most 0.0006 on 2,000 posts).
    model = BertForLeadGen.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    wrapper = _OnnxWrapper(model).eval()
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 3, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    fp32 = model_dir / FP32_FILE
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (ids, mask),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["label_logits", "category_logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "label_logits": {0: "batch"},
                "category_logits": {0: "batch"},
            },
            opset_version=opset,
            dynamo=False,
        )
    out = model_dir / ONNX_FILE
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
    if not keep_fp32:
        fp32.unlink()
    log.info("exported %s (%.1f MB)", out, out.stat().st_size / 1e6)
    return out


def compare_backends(model_dir: Path, texts: Sequence[str], threshold: float = 0.5) -> dict[str, Any]:
    """Run torch fp32 and ONNX int8 on the same texts: label agreement, category agreement, max prob gap."""
    import onnxruntime as ort

    model = BertForLeadGen.from_pretrained(str(model_dir)).eval()
    session = ort.InferenceSession(str(model_dir / ONNX_FILE), providers=["CPUExecutionProvider"])
    encoder = Encoder.from_dir(model_dir, max_length=model.config.max_position_embeddings - 2)
    seqs = encoder.encode(list(texts))
    p_t, p_o = np.zeros(len(seqs)), np.zeros(len(seqs))
    c_t, c_o = np.zeros(len(seqs), dtype=int), np.zeros(len(seqs), dtype=int)
    for idx in length_batches(seqs, 64):
        ids, mask = encoder.pad([seqs[i] for i in idx])
        with torch.inference_mode():
            out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        p_t[idx] = softmax(out["label_logits"].numpy().astype(np.float64))[:, 1]
        c_t[idx] = out["category_logits"].numpy().argmax(1)
        lab, cat = session.run(None, {"input_ids": ids, "attention_mask": mask})
        p_o[idx] = softmax(lab.astype(np.float64))[:, 1]
        c_o[idx] = cat.argmax(1)
    result = {
        "n": len(seqs),
        "label_agreement": float(((p_t >= threshold) == (p_o >= threshold)).mean()) if len(seqs) else 1.0,
        "category_agreement": float((c_t == c_o).mean()) if len(seqs) else 1.0,
        "max_abs_prob_diff": float(np.abs(p_t - p_o).max()) if len(seqs) else 0.0,
        "mean_abs_prob_diff": float(np.abs(p_t - p_o).mean()) if len(seqs) else 0.0,
    }
    log.info("torch vs onnx int8: %s", result)
    return result

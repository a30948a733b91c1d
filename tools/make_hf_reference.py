#!/usr/bin/env python3
"""Reference logits of tiny random Hugging Face models, as test fixtures for qes.

Builds a Qwen2ForCausalLM (QKV bias, tied embeddings, GQA) and a LlamaForCausalLM
(GQA, separate output matrix) with fixed seeds, runs fixed token ids through
each in float32 with eager attention, and writes for each model NAME:

  NAME.json          config, tensor index (name, shape, offset in NAME.weights.bin),
                     token ids, logits shape, versions of torch and transformers
  NAME.weights.bin   every parameter as little-endian float32, Hugging Face names
  NAME.logits.bin    logits [n_tokens][vocab] as little-endian float32

into tests/model/fixtures/ (or --out). About 250 KB in all. qes's test
(tests/model/test_hf_reference.cpp) converts the weights to GGUF with qes's own
writer (permuting llama's Q/K rows as llama.cpp's converter does), runs them,
and compares logits.

Needs torch and transformers (the accelerator machine has both):
  python3 tools/make_hf_reference.py [--out tests/model/fixtures]
"""
import argparse
import json
import os

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

TOKENS = [1, 17, 42, 99, 3, 127, 64, 5, 88, 23, 51, 7, 110, 2, 76, 33, 9, 120, 45, 60]

COMMON = dict(
    vocab_size=128,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=256,
)


def rope_theta_of(config):
    """transformers 4 keeps rope_theta on the config; 5 moved it into rope_parameters."""
    params = getattr(config, "rope_parameters", None)
    if isinstance(params, dict) and "rope_theta" in params:
        return params["rope_theta"]
    return config.rope_theta


def randomize(model, seed):
    """Weights large enough that every layer matters (HF's default init of
    std 0.02 leaves near-uniform logits): matrices N(0, 1/cols), norms near 1,
    biases N(0, 0.1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("embed_tokens.weight"):
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)


def save(model, name, arch, config, out):
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([TOKENS])).logits[0].float().contiguous()
    index, offset = [], 0
    with open(os.path.join(out, name + ".weights.bin.tmp"), "wb") as f:
        # state_dict keeps tied lm_head.weight; skip it when tied (same tensor).
        for pname, t in model.state_dict().items():
            if pname == "lm_head.weight" and config.tie_word_embeddings:
                continue
            data = t.detach().float().contiguous().numpy().astype("<f4").tobytes()
            f.write(data)
            index.append({"name": pname, "shape": list(t.shape), "offset": offset})
            offset += len(data)
    with open(os.path.join(out, name + ".logits.bin.tmp"), "wb") as f:
        f.write(logits.numpy().astype("<f4").tobytes())
    meta = {
        "arch": arch,
        "config": {
            "vocab_size": config.vocab_size,
            "hidden_size": config.hidden_size,
            "intermediate_size": config.intermediate_size,
            "num_hidden_layers": config.num_hidden_layers,
            "num_attention_heads": config.num_attention_heads,
            "num_key_value_heads": config.num_key_value_heads,
            "max_position_embeddings": config.max_position_embeddings,
            "rms_norm_eps": config.rms_norm_eps,
            "rope_theta": rope_theta_of(config),
            "tie_word_embeddings": config.tie_word_embeddings,
        },
        "tensors": index,
        "tokens": TOKENS,
        "logits_shape": list(logits.shape),
        "made_by": "tools/make_hf_reference.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    with open(os.path.join(out, name + ".json.tmp"), "w") as f:
        json.dump(meta, f, indent=1)
    for suffix in (".weights.bin", ".logits.bin", ".json"):
        os.replace(os.path.join(out, name + suffix + ".tmp"), os.path.join(out, name + suffix))
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, logits {tuple(logits.shape)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "model", "fixtures"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)

    qcfg = Qwen2Config(**COMMON, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
                       attn_implementation="eager", torch_dtype=torch.float32)
    qwen = Qwen2ForCausalLM(qcfg)
    randomize(qwen, 1)
    save(qwen, "hf_qwen2_tiny", "qwen2", qcfg, args.out)

    lcfg = LlamaConfig(**COMMON, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                       attention_bias=False, mlp_bias=False, attn_implementation="eager",
                       torch_dtype=torch.float32)
    llama = LlamaForCausalLM(lcfg)
    randomize(llama, 2)
    save(llama, "hf_llama_tiny", "llama", lcfg, args.out)


if __name__ == "__main__":
    main()

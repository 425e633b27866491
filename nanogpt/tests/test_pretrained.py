"""GPT.from_pretrained against Hugging Face's own GPT-2: the same weights must give the same logits."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tiktoken
import torch

from nanogpt.model import GPT
from nanogpt.pretrained import read_safetensors
from zero_to_hero import UserError

transformers = pytest.importorskip("transformers")  # the test extra installs it; it is never a runtime need


def tiny_hf_gpt2(seed=0, **overrides):
    """A randomly initialised GPT-2 with a tiny config. Weights are drawn larger than GPT-2's init (and biases
    and LayerNorms random too) so activations are O(1): a wrong GELU variant or a missed transpose shows."""
    torch.manual_seed(seed)
    config = dict(vocab_size=97, n_positions=24, n_embd=32, n_layer=3, n_head=4)
    config.update(overrides)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**config)).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.15)
            else:  # biases around 0, LayerNorm gains around 1
                p.normal_(1.0 if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")) else 0.0, 0.1)
    return model


def assert_same_logits(ours: GPT, theirs, idx):
    targets = torch.roll(idx, -1, dims=1)
    with torch.no_grad():
        logits, loss = ours(idx, targets)
        expected = theirs(idx, labels=None).logits
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(expected.flatten(0, 1), targets.flatten()))


def test_safetensors_folder_gives_the_same_logits(tmp_path):
    theirs = tiny_hf_gpt2()
    theirs.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    ours = GPT.from_pretrained(tmp_path).eval()
    assert ours.config.n_layer == 3 and ours.config.block_size == 24 and ours.config.bias
    assert ours.lm_head.weight is ours.transformer.wte.weight
    assert_same_logits(ours, theirs, torch.randint(0, 97, (2, 24)))


def test_pytorch_model_bin_in_the_old_layout_gives_the_same_logits(tmp_path):
    # the original openai-community/gpt2 files: no "transformer." prefix, causal-mask buffers included
    theirs = tiny_hf_gpt2(seed=1)
    theirs.config.save_pretrained(tmp_path)
    state = {k.removeprefix("transformer."): v for k, v in theirs.state_dict().items() if k != "lm_head.weight"}
    for i in range(3):
        state[f"h.{i}.attn.bias"] = torch.tril(torch.ones(24, 24)).view(1, 1, 24, 24)
    torch.save(state, tmp_path / "pytorch_model.bin")
    ours = GPT.from_pretrained(tmp_path).eval()
    assert_same_logits(ours, theirs, torch.randint(0, 97, (3, 10)))


def test_the_plain_gelu_variant_is_honoured(tmp_path):
    theirs = tiny_hf_gpt2(activation_function="gelu")
    theirs.save_pretrained(tmp_path)
    ours = GPT.from_pretrained(tmp_path).eval()
    assert ours.config.gelu_approximate == "none"
    assert_same_logits(ours, theirs, torch.randint(0, 97, (2, 16)))


def test_generation_continues_like_hugging_face_greedy(tmp_path):
    theirs = tiny_hf_gpt2(seed=2)
    theirs.save_pretrained(tmp_path)
    ours = GPT.from_pretrained(tmp_path).eval()
    idx = torch.randint(0, 97, (1, 5))
    expected = theirs.generate(idx, max_new_tokens=8, do_sample=False, pad_token_id=0)
    assert torch.equal(ours.generate(idx, 8, temperature=0), expected)


def test_our_safetensors_reader_matches_the_safetensors_package(tmp_path):
    from safetensors.torch import save_file

    tensors = {
        "f32": torch.randn(3, 4),
        "bf16": torch.randn(5).to(torch.bfloat16),
        "f16": torch.randn(2, 1, 3).to(torch.float16),
        "i64": torch.arange(6).view(2, 3),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
    }
    save_file(tensors, tmp_path / "t.safetensors", metadata={"format": "pt"})
    loaded = read_safetensors(tmp_path / "t.safetensors")
    assert loaded.keys() == tensors.keys()
    for name, tensor in tensors.items():
        assert loaded[name].dtype == tensor.dtype and torch.equal(loaded[name], tensor), name


def test_bad_folders_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="is not a folder"):
        GPT.from_pretrained(tmp_path / "nowhere")
    with pytest.raises(UserError, match="config.json not found"):
        GPT.from_pretrained(tmp_path)
    tiny_hf_gpt2().config.save_pretrained(tmp_path)
    with pytest.raises(UserError, match="no model.safetensors or pytorch_model.bin"):
        GPT.from_pretrained(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x00" * 64)
    with pytest.raises(UserError, match="corrupt"):
        GPT.from_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes((40).to_bytes(8, "little") + b"{not json")
    with pytest.raises(UserError, match="model.safetensors is corrupt"):
        GPT.from_pretrained(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "scale_attn_by_inverse_layer_idx": True}))
    with pytest.raises(UserError, match="cannot reproduce scale_attn_by_inverse_layer_idx=True"):
        GPT.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({**config, "model_type": "llama"}))
    with pytest.raises(UserError, match="only GPT-2"):
        GPT.from_pretrained(tmp_path)


def test_weights_of_the_wrong_shape_are_a_user_error(tmp_path):
    tiny_hf_gpt2().save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "n_embd": 64}))
    with pytest.raises(UserError, match="has shape"):
        GPT.from_pretrained(tmp_path)


def test_sample_py_continues_a_prompt_like_hugging_face(tmp_path):
    theirs = tiny_hf_gpt2(seed=3, vocab_size=50257)
    theirs.save_pretrained(tmp_path / "gpt2")
    encoding = tiktoken.get_encoding("gpt2")
    prompt = encoding.encode("Hello, I'm a language model,")
    expected = theirs.generate(torch.tensor([prompt]), max_new_tokens=12, do_sample=False, pad_token_id=0)[0]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, str(root / "sample.py"), "--device=cpu", "--max_new_tokens=12", "--temperature=0"]
    args += ["--start=Hello, I'm a language model,"]
    result = subprocess.run([*args, f"--pretrained={tmp_path / 'gpt2'}"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == encoding.decode(expected.tolist()) + "\n"
    result = subprocess.run([*args, "--pretrained=nowhere"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == "error: nowhere is not a folder; " + (
        "from_pretrained takes a local Hugging Face GPT-2 folder\n"
    )

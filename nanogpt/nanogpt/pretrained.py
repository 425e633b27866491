"""GPT-2 weights in Hugging Face format, from a local folder, into our GPT.

    model = GPT.from_pretrained("path/to/gpt2")   # a folder with config.json + model.safetensors
    logits, loss = model(idx, targets)            # (or pytorch_model.bin)

No Hugging Face package is needed: get the folder once (e.g. `huggingface-cli download gpt2
--local-dir gpt2`, or `save_pretrained`) and point at it. `load_openai_gpt2("gpt2")` (train.py's
`init_from='gpt2'`, as in nanoGPT) finds OpenAI's weights in the local Hugging Face cache, or downloads
them through huggingface_hub when it is installed and online.
Our module names are GPT-2's, so the mapping is short:
add the `transformer.` prefix old checkpoints lack, skip the causal-mask buffers they carry, and
transpose the four matrices HF keeps in its `Conv1D` layout (in, out) instead of Linear's (out, in).
"""

import json
import os
import pickle
import zipfile
from pathlib import Path

import torch

from nanogpt.model import GPT, GPTConfig
from zero_to_hero import UserError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
SAFETENSORS_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
SAFETENSORS_DTYPES.update({"I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8})
SAFETENSORS_DTYPES.update({"U8": torch.uint8, "BOOL": torch.bool})
# Hugging Face's GELU names -> torch's nn.GELU(approximate=...)
ACTIVATIONS = {"gelu_new": "tanh", "gelu_pytorch_tanh": "tanh", "gelu": "none"}


def read_config(folder: Path, dropout: float) -> GPTConfig:
    """Our GPTConfig from HF's config.json; settings our GPT cannot reproduce are a UserError."""
    path = folder / "config.json"
    if not path.is_file():
        raise UserError(f"{path} not found; from_pretrained needs a Hugging Face GPT-2 folder (config.json + weights)")
    try:
        hf = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path} is not valid JSON ({e})") from None
    if hf.get("model_type") != "gpt2":
        raise UserError(f"{path} describes a {hf.get('model_type')!r} model; only GPT-2 checkpoints load here")
    n_embd = hf["n_embd"]
    unsupported = {
        "activation_function": hf.get("activation_function", "gelu_new") not in ACTIVATIONS,
        "n_inner": hf.get("n_inner") not in (None, 4 * n_embd),
        "scale_attn_by_inverse_layer_idx": hf.get("scale_attn_by_inverse_layer_idx", False),
        "scale_attn_weights": not hf.get("scale_attn_weights", True),
        "tie_word_embeddings": not hf.get("tie_word_embeddings", True),
        "layer_norm_epsilon": hf.get("layer_norm_epsilon", 1e-5) != 1e-5,
    }
    if any(unsupported.values()):
        bad = ", ".join(f"{k}={hf.get(k)!r}" for k, v in unsupported.items() if v)
        raise UserError(f"{path}: our GPT cannot reproduce {bad}")
    return GPTConfig(
        vocab_size=hf["vocab_size"],
        block_size=hf["n_positions"],
        n_layer=hf["n_layer"],
        n_head=hf["n_head"],
        n_embd=n_embd,
        dropout=dropout,
        bias=True,  # GPT-2 has biases in every Linear and LayerNorm
        gelu_approximate=ACTIVATIONS[hf.get("activation_function", "gelu_new")],
    )


def read_safetensors(path: Path) -> dict:
    """The safetensors format is simple enough to read without its package: an 8-byte little-endian
    header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw tensor bytes."""
    data = bytearray(path.read_bytes())  # writable: the tensors below are views into it
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_len])
    header.pop("__metadata__", None)
    body = memoryview(data)[8 + header_len :]
    state = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = SAFETENSORS_DTYPES[info["dtype"]]
        flat = torch.frombuffer(body[begin:end], dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        state[name] = flat.reshape(info["shape"])
    return state


def read_state_dict(folder: Path) -> dict:
    """The checkpoint's tensors: model.safetensors if present, else pytorch_model.bin (weights_only)."""
    path = next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), None)
    if path is None:
        raise UserError(f"no {' or '.join(WEIGHT_FILES)} in {folder}")
    try:
        if path.suffix == ".safetensors":
            return read_safetensors(path)
        return torch.load(path, map_location="cpu", weights_only=True)
    except (
        RuntimeError,
        ValueError,
        KeyError,
        TypeError,
        OSError,
        EOFError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
    ) as e:
        raise UserError(f"{path} is corrupt or not a weights file ({type(e).__name__}: {e})") from None


def to_our_names(hf_state: dict) -> dict:
    """HF names and layouts -> ours: drop mask buffers and the tied lm_head, transpose Conv1D."""
    state = {}
    for name, tensor in hf_state.items():
        if name.endswith((".attn.bias", ".attn.masked_bias")) or name == "lm_head.weight":
            continue  # causal-mask buffers (we mask inside attention); lm_head is tied to wte
        name = "transformer." + name.removeprefix("transformer.")  # old checkpoints lack the prefix
        state[name] = tensor.t() if name.endswith(CONV1D) else tensor
    return state


def load_pretrained(path, dropout: float = 0.0) -> GPT:
    """A GPT holding the GPT-2 weights found in folder `path` (see the module docstring)."""
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder; from_pretrained takes a local Hugging Face GPT-2 folder")
    config = read_config(folder, dropout)
    state = to_our_names(read_state_dict(folder))
    model = GPT(config)
    ours = model.state_dict()
    ours.pop("lm_head.weight")  # the same tensor as transformer.wte.weight
    missing, unexpected = sorted(ours.keys() - state.keys()), sorted(state.keys() - ours.keys())
    if missing or unexpected:
        raise UserError(f"{folder}: weights do not match GPT-2 (missing {missing[:4]}, unexpected {unexpected[:4]})")
    for name, tensor in state.items():
        if tensor.shape != ours[name].shape:
            raise UserError(f"{folder}: {name} has shape {tuple(tensor.shape)}, expected {tuple(ours[name].shape)}")
    model.load_state_dict(state, strict=False)  # strict minus the tied lm_head, checked above
    return model


OPENAI_MODELS = ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl")
NEEDED = ["config.json", "model.safetensors"]


def hub_cache() -> Path:
    """Hugging Face's cache folder, as huggingface_hub resolves it (HF_HUB_CACHE, else HF_HOME/hub)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "huggingface"
    return Path(home).expanduser() / "hub"


def cached_snapshot(name: str) -> Path | None:
    """A snapshot folder of `name` (or openai-community/`name`) in the cache that holds config + weights."""
    for repo in (name, f"openai-community/{name}"):
        snapshots = hub_cache() / f"models--{repo.replace('/', '--')}" / "snapshots"
        for folder in sorted(snapshots.glob("*")) if snapshots.is_dir() else []:
            if (folder / "config.json").is_file() and any((folder / w).is_file() for w in WEIGHT_FILES):
                return folder
    return None


def load_openai_gpt2(name: str, dropout: float = 0.0, folder: str = "", log=print) -> GPT:
    """OpenAI's GPT-2 `name` (gpt2, gpt2-medium, gpt2-large, gpt2-xl): from `folder` if given, else the local
    Hugging Face cache, else downloaded with huggingface_hub (if installed and online); else a UserError."""
    if name not in OPENAI_MODELS:
        raise UserError(f"unknown pretrained model {name!r}; choose one of {', '.join(OPENAI_MODELS)}")
    if folder:
        return load_pretrained(folder, dropout)
    snapshot = cached_snapshot(name)
    if snapshot is None:
        try:
            from huggingface_hub import snapshot_download
        except ImportError:
            snapshot_download = None
        how = (
            f"on a machine with internet: `huggingface-cli download {name} {' '.join(NEEDED)}` (pip install "
            f"huggingface_hub), then copy {hub_cache()} here, or give pretrained_dir=FOLDER"
        )
        if snapshot_download is None:
            raise UserError(f"{name} is not in the Hugging Face cache {hub_cache()}; {how}")
        try:
            snapshot = Path(snapshot_download(repo_id=name, allow_patterns=NEEDED))
        except Exception as e:  # offline, blocked, no such file: all end the same way
            reason = type(e).__name__
            raise UserError(f"{name} is not in {hub_cache()} and could not be downloaded ({reason}); {how}") from None
    log(f"init_from={name}: {snapshot}")
    return load_pretrained(snapshot, dropout)

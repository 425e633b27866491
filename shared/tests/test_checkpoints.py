import pytest
import torch

from zero_to_hero import UserError
from zero_to_hero.checkpoints import load_checkpoint


def test_reads_back_what_torch_saved_onto_the_cpu(tmp_path):
    saved = {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "step": 7, "rng": torch.get_rng_state()}
    torch.save(saved, tmp_path / "ckpt.pt")
    loaded = load_checkpoint(tmp_path / "ckpt.pt")
    assert loaded["step"] == 7
    assert torch.equal(loaded["model"]["w"], saved["model"]["w"]) and loaded["model"]["w"].device.type == "cpu"
    assert torch.equal(loaded["rng"], saved["rng"])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "no checkpoint at"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b""), "corrupt or not a checkpoint"),
        (lambda p: p.write_text("not a zip, not a pickle"), "corrupt or not a checkpoint"),
        (lambda p: torch.save([1, 2, 3], p), "holds a list, not a dict"),
        (lambda p: torch.save({}, p), "holds a dict, not a dict of weights"),
    ],
    ids=["missing", "folder", "empty", "text", "list", "empty-dict"],
)
def test_every_bad_file_is_one_line_with_the_hint(tmp_path, make, message):
    path = tmp_path / "ckpt.pt"
    make(path)
    with pytest.raises(UserError) as e:
        load_checkpoint(path, hint="train one first: python train.py")
    text = str(e.value)
    assert message in text and str(path) in text and text.endswith("; train one first: python train.py")
    assert "\n" not in text


def test_truncated_checkpoint_is_refused(tmp_path):
    path = tmp_path / "ckpt.pt"
    torch.save({"w": torch.randn(100, 100)}, path)
    path.write_bytes(path.read_bytes()[:5000])  # a copy cut short
    with pytest.raises(UserError, match="corrupt or not a checkpoint"):
        load_checkpoint(path)


class Custom:  # unpickling it would run its module's code: weights_only refuses it
    pass


def test_objects_beyond_weights_are_refused(tmp_path):
    path = tmp_path / "ckpt.pt"
    torch.save({"thing": Custom()}, path)
    with pytest.raises(UserError, match="corrupt or not a checkpoint"):
        load_checkpoint(path)

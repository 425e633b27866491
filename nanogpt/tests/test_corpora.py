"""Document corpora -> shards: JSONL, folders of .txt, Parquet, Hugging Face datasets; re-runs skip finished shards."""

import json
import random
import sys

import numpy as np
import pytest
import tiktoken

from nanogpt.shards import EOT, hf_documents, prepare_shards
from zero_to_hero import UserError

quiet = dict(log=lambda *a: None)


def documents(n=60, seed=0):
    rng = random.Random(seed)
    words = ["the", "king", "  queen", "shall\n", "speak", "now's", "ünïcode", "🤖", "123", "\tand", "\n\n"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 80))) for _ in range(n)]


def expected_tokens(docs):
    encoding = tiktoken.get_encoding("gpt2")
    return sum(([EOT] + encoding.encode_ordinary(d) for d in docs), [])


def all_tokens(meta, folder):
    return np.concatenate([np.fromfile(folder / f, dtype=np.uint16) for f in meta["val"] + meta["train"]]).tolist()


def write_jsonl(path, docs, key="text"):
    path.write_text("".join(json.dumps({"id": i, key: d}) + "\n" for i, d in enumerate(docs)))
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_jsonl_documents_each_after_an_eot(tmp_path, workers):
    docs = documents()
    lines = []
    meta = prepare_shards(
        [write_jsonl(tmp_path / "a.jsonl", docs[:40]), write_jsonl(tmp_path / "b.jsonl", docs[40:])],
        tmp_path / "s",
        shard_tokens=500,
        workers=workers,
        log=lines.append,
    )
    assert all_tokens(meta, tmp_path / "s") == expected_tokens(docs)
    assert meta["val"] == ["val_000000.bin"] and meta["val_tokens"] == 500  # the first shard is val
    assert f"{len(docs)} documents (" in lines[-2] and "tokens (" in lines[-2]


def test_text_key_and_bad_rows(tmp_path):
    docs = documents(5)
    path = write_jsonl(tmp_path / "a.jsonl", docs, key="content")
    with pytest.raises(UserError, match=r"a.jsonl, line 1: no 'text' field \(KeyError\); set --text_key"):
        prepare_shards([path], tmp_path / "s", workers=1, **quiet)
    meta = prepare_shards([path], tmp_path / "s", shard_tokens=50, workers=1, text_key="content", **quiet)
    assert all_tokens(meta, tmp_path / "s") == expected_tokens(docs)
    (tmp_path / "bad.jsonl").write_text('{"text": "fine"}\n{"text": 3}\n')
    with pytest.raises(UserError, match="bad.jsonl, line 2: 'text' is not a string"):
        prepare_shards([tmp_path / "bad.jsonl"], tmp_path / "t", workers=1, **quiet)  # ("s" holds a.jsonl's)


def test_a_folder_of_txt_files_is_one_document_per_file(tmp_path):
    docs = documents(12)
    (tmp_path / "corpus" / "sub").mkdir(parents=True)
    for i, d in enumerate(docs):
        (tmp_path / "corpus" / ("sub" if i % 2 else "") / f"{i:03d}.txt").write_text(d)
    meta = prepare_shards([tmp_path / "corpus"], tmp_path / "s", shard_tokens=100, workers=2, **quiet)
    files = sorted((tmp_path / "corpus").rglob("*.txt"))
    assert all_tokens(meta, tmp_path / "s") == expected_tokens([f.read_text() for f in files])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="folder .*empty holds no .txt files"):
        prepare_shards([tmp_path / "empty"], tmp_path / "s", **quiet)


def test_a_rerun_keeps_finished_shards_and_continues_after_them(tmp_path):
    docs = documents(80, seed=1)
    path = write_jsonl(tmp_path / "a.jsonl", docs)
    folder = tmp_path / "s"
    meta = prepare_shards([path], folder, shard_tokens=300, val_tokens=200, workers=1, **quiet)
    whole = {f: (folder / f).read_bytes() for f in meta["val"] + meta["train"]}
    assert len(whole) > 6
    # an interrupted run: progress.json lists the first 4 shards; later ones are missing, meta.json too
    progress = json.loads((folder / "progress.json").read_text())
    progress["shards"] = progress["shards"][:4]
    (folder / "progress.json").write_text(json.dumps(progress))
    kept = {s["name"]: (folder / s["name"]).stat().st_mtime_ns for s in progress["shards"]}
    for name in set(whole) - set(kept):
        (folder / name).unlink()
    (folder / "meta.json").unlink()
    lines = []
    again = prepare_shards([path], folder, shard_tokens=300, val_tokens=200, workers=2, log=lines.append)
    assert lines[0].startswith("4 shards already written: continuing at document ")
    assert again == meta and {f: (folder / f).read_bytes() for f in whole} == whole
    assert all((folder / name).stat().st_mtime_ns == t for name, t in kept.items())  # not rewritten
    # other settings: everything is written again
    lines.clear()
    prepare_shards([path], folder, shard_tokens=400, val_tokens=200, workers=1, log=lines.append)
    assert not any("already written" in line for line in lines)


def test_parquet_needs_pyarrow_says_how_to_get_it(tmp_path, monkeypatch):
    (tmp_path / "a.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    with pytest.raises(UserError, match=r"Parquet input needs pyarrow: pip install pyarrow \(or 'nanogpt\[corpora"):
        prepare_shards([tmp_path / "a.parquet"], tmp_path / "s", **quiet)
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(UserError, match=r"--hf needs datasets: pip install datasets"):
        prepare_shards([], tmp_path / "s", hf=("HuggingFaceFW/fineweb-edu", "sample-10BT", "train"), **quiet)


def test_parquet_rows_are_documents(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet input is the optional extra nanogpt[corpora] (pyarrow)")
    import pyarrow.parquet as pq

    docs = documents(50, seed=2)
    table = pa.table({"id": list(range(50)), "text": docs})
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=16)
    meta = prepare_shards([tmp_path / "a.parquet"], tmp_path / "s", shard_tokens=400, workers=2, **quiet)
    assert all_tokens(meta, tmp_path / "s") == expected_tokens(docs)
    with pytest.raises(UserError, match="has no column 'body'"):
        prepare_shards([tmp_path / "a.parquet"], tmp_path / "t", text_key="body", **quiet)


def test_hugging_face_adapter_on_a_local_dataset(tmp_path):
    pytest.importorskip("datasets", reason="--hf is the optional extra nanogpt[corpora] (datasets)")
    docs = documents(30, seed=3)
    (tmp_path / "local").mkdir()
    write_jsonl(tmp_path / "local" / "train.jsonl", docs)
    assert list(hf_documents(str(tmp_path / "local"), None, "train", "text")) == docs
    meta = prepare_shards([], tmp_path / "s", shard_tokens=300, workers=1, hf=(str(tmp_path / "local"), None, "train"))
    assert all_tokens(meta, tmp_path / "s") == expected_tokens(docs)


def test_a_parquet_text_column_of_another_type_is_refused(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet input is the optional extra nanogpt[corpora] (pyarrow)")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": [1, 2, 3], "body": ["a", "b", "c"]}), tmp_path / "a.parquet")
    with pytest.raises(UserError, match=r"a.parquet: column 'text' holds int64, not text; set --text_key"):
        prepare_shards([tmp_path / "a.parquet"], tmp_path / "s", **quiet)
    (tmp_path / "b.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(UserError, match=r"b.parquet is not a Parquet file"):
        prepare_shards([tmp_path / "b.parquet"], tmp_path / "t", **quiet)

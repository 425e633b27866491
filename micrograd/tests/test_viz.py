"""draw_dot: the DOT text for a graph, rendering through graphviz's `dot`, and the error without it."""

import os
import re
import shutil

import pytest

from micrograd.engine import Value
from micrograd.nn import Neuron
from micrograd.viz import DotNotFoundError, GraphDrawing, draw_dot


def _example():
    a = Value(2.0, label="a")
    b = a + a  # a is used twice
    b.label = "b"
    c = Value(-3.0, label="c")
    out = (b * c).tanh()
    out.label = "out"
    out.backward()
    return out


def test_one_record_per_value_one_node_per_op_left_to_right():
    dot = draw_dot(_example())
    src = dot.source
    assert isinstance(dot, GraphDrawing)
    assert "rankdir=LR" in src
    records = re.findall(r'^\s*(v\d+) \[label="\{ (.*?) \}" shape=record\]', src, re.M)
    assert len(records) == 5  # a, b, c, b*c, out
    fields = dict(records)
    assert fields["v0"] == "out | data -1.0000 | grad 1.0000"
    assert "a | data 2.0000 | grad -0.0000" in fields.values()
    ops = re.findall(r"^\s*(v\d+_op) \[label=(\S+) ", src, re.M)
    assert sorted(label for _, label in ops) == ['"*"', '"+"', "tanh"]
    edges = re.findall(r"^\s*(\S+) -> (\S+)$", src, re.M)
    # each op node feeds its Value; each input feeds the op (a twice into +)
    assert len(edges) == 3 + 5  # op -> Value: 3; inputs -> op: tanh 1, * 2, + 2
    a_name = next(name for name, f in fields.items() if f.startswith("a |"))
    assert edges.count((a_name, next(n for n, lab in ops if lab == '"+"'))) == 2


def test_a_neuron_is_one_n_ary_plus_node_over_its_products():
    x = [Value(1.0, label="x1"), Value(-2.0, label="x2"), Value(0.5, label="x3")]
    n = Neuron(3, nonlin="tanh")
    src = draw_dot(n(x)).source
    ops = dict(re.findall(r"^\s*(v\d+_op) \[label=(\S+) ", src, re.M))
    assert sorted(ops.values()) == ['"*"'] * 3 + ['"+"', "tanh"]
    plus = next(name for name, label in ops.items() if label == '"+"')
    inputs = [a for a, b in re.findall(r"^\s*(\S+) -> (\S+)$", src, re.M) if b == plus]
    assert len(inputs) == 4  # b, w1*x1, w2*x2, w3*x3 all feed the one + node


def test_top_to_bottom_and_bad_rankdir():
    assert "rankdir=TB" in draw_dot(Value(1.0), rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir must be 'LR'"):
        draw_dot(Value(1.0), rankdir="RL ")


def test_record_special_characters_in_labels_are_escaped():
    src = draw_dot(Value(1.0, label="a|b{c}")).source
    assert r"a\|b\{c\}" in src


def test_deep_graph_is_traced_without_recursion():
    x = Value(1.0)
    for _ in range(50_000):
        x = x.relu()
    assert draw_dot(x).source.count("shape=record") == 50_001


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs graphviz's dot program (.ci/run installs it)")
def test_render_svg_and_png_with_dot(tmp_path):
    dot = draw_dot(_example())
    svg = open(dot.render(tmp_path / "graph", cleanup=True), encoding="utf-8").read()
    assert "<svg" in svg and "tanh" in svg and "data 2.0000" in svg and "grad 1.0000" in svg
    png = open(dot.render(tmp_path / "graph", format="png", cleanup=True), "rb").read()
    assert png.startswith(b"\x89PNG")


def test_without_dot_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot
    dot = draw_dot(_example())
    with pytest.raises(DotNotFoundError, match=r"apt-get install graphviz.*\.source"):
        dot.render(tmp_path / "graph")
    with pytest.raises(DotNotFoundError, match="brew install graphviz"):
        dot.pipe(format="svg")
    assert "tanh" in dot.source  # the DOT text needs no program
    assert not os.path.exists(tmp_path / "graph.svg")

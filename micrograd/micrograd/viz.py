"""Draw the graph behind a Value with graphviz: a record per Value, a small node per operation.

dot = draw_dot(loss)          # a graphviz.Digraph; dot.source is the DOT text (no program needed)
dot.render("graph")           # writes graph.svg with graphviz's `dot` program
"""

import graphviz

from zero_to_hero import UserError

INSTALL_DOT = (
    "graphviz's `dot` program was not found on PATH; it draws the graph. Install it "
    "(Debian/Ubuntu: `sudo apt-get install graphviz`, macOS: `brew install graphviz`, "
    "conda: `conda install graphviz`). The DOT source is still available as `.source`."
)


class DotNotFoundError(UserError, RuntimeError):
    """Rendering needs graphviz's `dot` program, which is not installed."""


class GraphDrawing(graphviz.Digraph):
    """A graphviz.Digraph whose render() and pipe() say how to install `dot` when it is missing."""

    def render(self, *args, **kwargs):
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError(INSTALL_DOT) from None

    def pipe(self, *args, **kwargs):  # what Jupyter calls to show the drawing inline
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError(INSTALL_DOT) from None


def trace(root):
    """Every Value root depends on, named v0 (root), v1, ... in discovery order, and the
    (input, output) edges between them; an explicit stack, so deep graphs are fine."""
    names, edges, stack = {root: "v0"}, [], [root]
    while stack:
        v = stack.pop()
        for child in v._prev:
            edges.append((child, v))  # a + a gives two edges: a is used twice
            if child not in names:
                names[child] = f"v{len(names)}"
                stack.append(child)
    return names, edges


def draw_dot(root, format="svg", rankdir="LR"):
    """A GraphDrawing of root's graph, inputs on the left: each Value as `label | data | grad`."""
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), got {rankdir!r}")
    dot = GraphDrawing(format=format, graph_attr={"rankdir": rankdir})
    names, edges = trace(root)
    for v, name in names.items():
        fields = [f"data {v.data:.4f}", f"grad {v.grad:.4f}"]
        if v.label:
            fields.insert(0, _escape(v.label))
        dot.node(name, "{ " + " | ".join(fields) + " }", shape="record")
        if v._op:  # the operation that made v, as its own small node feeding into v
            dot.node(name + "_op", _escape(v._op), shape="circle", fontsize="10")
            dot.edge(name + "_op", name)
    for child, v in edges:
        dot.edge(names[child], names[v] + "_op")
    return dot


def _escape(text):
    """Characters that mean something inside a graphviz record label."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text

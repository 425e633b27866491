"""Lecture 5: backpropagation by hand through the MLP with BatchNorm, no autograd.

The forward pass is split into atomic steps; `backward` walks them in reverse and writes the
gradient of the loss with respect to every intermediate, one chain-rule step per line.
`backward_fused` does the same with the two derivations that collapse many steps into one
expression: cross-entropy (softmax minus one-hot) and BatchNorm. Training uses the fused version
and never calls `.backward()` (the parameters do not even require grad).

Shapes: B batch, T block_size, E n_embd, H n_hidden, V vocab_size.
BatchNorm normalises with the biased batch variance (divide by B), like torch.nn.BatchNorm1d,
and tracks running statistics for evaluation.
"""

import math

import torch
import torch.nn.functional as F

EPS = 1e-5
MOMENTUM = 0.1


class ManualMLP:
    """embedding -> Linear -> BatchNorm -> tanh -> Linear, with hand-written gradients."""

    def __init__(self, vocab_size: int, block_size: int, n_embd: int, n_hidden: int, generator: torch.Generator):
        fan_in = block_size * n_embd

        def randn(*shape):
            return torch.randn(*shape, generator=generator)

        # b1 is useless before BatchNorm (the mean is subtracted) but kept: its gradient (zero) is checked too.
        self.params = {
            "C": randn(vocab_size, n_embd),
            "W1": randn(fan_in, n_hidden) * (5 / 3) / fan_in**0.5,
            "b1": randn(n_hidden) * 0.1,
            "W2": randn(n_hidden, vocab_size) * 0.1,
            "b2": randn(vocab_size) * 0.1,
            "bngain": 1.0 + randn(1, n_hidden) * 0.1,  # not exactly 1 and 0, so no gradient hides behind a
            "bnbias": randn(1, n_hidden) * 0.1,  # multiplication by one or an addition of zero
        }
        self.running_mean = torch.zeros(1, n_hidden)
        self.running_var = torch.ones(1, n_hidden)

    def to(self, device) -> "ManualMLP":
        self.params = {k: v.to(device) for k, v in self.params.items()}
        self.running_mean, self.running_var = self.running_mean.to(device), self.running_var.to(device)
        return self

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def forward(self, Xb: torch.Tensor, Yb: torch.Tensor) -> dict[str, torch.Tensor]:
        """The training-mode forward pass, one operation per line; returns every intermediate (and the loss)."""
        p = self.params
        B = len(Xb)
        emb = p["C"][Xb]  # (B, T, E)
        embcat = emb.view(B, -1)  # (B, T*E)
        hprebn = embcat @ p["W1"] + p["b1"]  # (B, H)
        bnmeani = hprebn.sum(0, keepdim=True) / B  # (1, H)
        bndiff = hprebn - bnmeani  # (B, H)
        bndiff2 = bndiff**2  # (B, H)
        bnvar = bndiff2.sum(0, keepdim=True) / B  # (1, H) biased, as BatchNorm1d normalises
        bnvar_inv = (bnvar + EPS) ** -0.5  # (1, H)
        bnraw = bndiff * bnvar_inv  # (B, H)
        hpreact = p["bngain"] * bnraw + p["bnbias"]  # (B, H)
        h = torch.tanh(hpreact)  # (B, H)
        logits = h @ p["W2"] + p["b2"]  # (B, V)
        logit_maxes = logits.max(1, keepdim=True).values  # (B, 1) subtracted for numerical safety
        norm_logits = logits - logit_maxes  # (B, V)
        counts = norm_logits.exp()  # (B, V)
        counts_sum = counts.sum(1, keepdim=True)  # (B, 1)
        counts_sum_inv = counts_sum**-1  # (B, 1)
        probs = counts * counts_sum_inv  # (B, V)
        logprobs = probs.log()  # (B, V)
        loss = -logprobs[torch.arange(B), Yb].mean()  # ()
        return dict(
            emb=emb, embcat=embcat, hprebn=hprebn, bnmeani=bnmeani, bndiff=bndiff, bndiff2=bndiff2,
            bnvar=bnvar, bnvar_inv=bnvar_inv, bnraw=bnraw, hpreact=hpreact, h=h, logits=logits,
            logit_maxes=logit_maxes, norm_logits=norm_logits, counts=counts, counts_sum=counts_sum,
            counts_sum_inv=counts_sum_inv, probs=probs, logprobs=logprobs, loss=loss,
        )  # fmt: skip

    def backward(self, Xb: torch.Tensor, Yb: torch.Tensor, f: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """d loss / d x for every intermediate x of `forward` and every parameter, one step at a time."""
        p = self.params
        B, V = f["logits"].shape
        d = {}
        d["logprobs"] = torch.zeros_like(f["logprobs"])
        d["logprobs"][torch.arange(B), Yb] = -1.0 / B  # loss = -mean of the picked log-probs
        d["probs"] = d["logprobs"] / f["probs"]  # log'(x) = 1/x
        # probs = counts * counts_sum_inv: the (B, 1) factor was broadcast over V columns, so its grads sum
        d["counts_sum_inv"] = (d["probs"] * f["counts"]).sum(1, keepdim=True)
        d["counts_sum"] = d["counts_sum_inv"] * -(f["counts_sum"] ** -2)  # (x^-1)' = -x^-2
        # counts feeds probs directly and through counts_sum (a row sum routes the grad to each column)
        d["counts"] = d["probs"] * f["counts_sum_inv"] + d["counts_sum"]
        d["norm_logits"] = d["counts"] * f["counts"]  # exp'(x) = exp(x)
        # norm_logits = logits - logit_maxes: logits get the grad as is; the max gets minus the row sum,
        # which flows back only to the position of each row's max
        d["logit_maxes"] = -d["norm_logits"].sum(1, keepdim=True)
        d["logits"] = d["norm_logits"] + F.one_hot(f["logits"].argmax(1), V) * d["logit_maxes"]
        d["h"] = d["logits"] @ p["W2"].T  # (B, V) @ (V, H)
        d["W2"] = f["h"].T @ d["logits"]  # (H, B) @ (B, V)
        d["b2"] = d["logits"].sum(0)
        d["hpreact"] = (1.0 - f["h"] ** 2) * d["h"]  # tanh'(x) = 1 - tanh(x)^2
        d["bngain"] = (f["bnraw"] * d["hpreact"]).sum(0, keepdim=True)
        d["bnbias"] = d["hpreact"].sum(0, keepdim=True)
        d["bnraw"] = p["bngain"] * d["hpreact"]
        d["bnvar_inv"] = (f["bndiff"] * d["bnraw"]).sum(0, keepdim=True)
        d["bnvar"] = d["bnvar_inv"] * -0.5 * (f["bnvar"] + EPS) ** -1.5
        d["bndiff2"] = torch.ones_like(f["bndiff2"]) / B * d["bnvar"]  # a column mean spreads 1/B to each row
        # bndiff feeds bnraw directly and bnvar through bndiff2
        d["bndiff"] = d["bnraw"] * f["bnvar_inv"] + 2 * f["bndiff"] * d["bndiff2"]
        d["bnmeani"] = -d["bndiff"].sum(0, keepdim=True)
        d["hprebn"] = d["bndiff"] + torch.ones_like(f["hprebn"]) / B * d["bnmeani"]
        d["embcat"] = d["hprebn"] @ p["W1"].T  # (B, H) @ (H, T*E)
        d["W1"] = f["embcat"].T @ d["hprebn"]  # (T*E, B) @ (B, H)
        d["b1"] = d["hprebn"].sum(0)
        d["emb"] = d["embcat"].view(f["emb"].shape)  # undo the concatenation
        d["C"] = self._embedding_backward(Xb, d["emb"])
        return d

    def backward_fused(self, Xb: torch.Tensor, Yb: torch.Tensor, f: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The parameters' gradients with cross-entropy and BatchNorm each differentiated in one expression."""
        p = self.params
        d = {"logits": cross_entropy_backward(f["logits"], Yb)}
        d["h"] = d["logits"] @ p["W2"].T
        d["W2"] = f["h"].T @ d["logits"]
        d["b2"] = d["logits"].sum(0)
        d["hpreact"] = (1.0 - f["h"] ** 2) * d["h"]
        d["bngain"] = (f["bnraw"] * d["hpreact"]).sum(0, keepdim=True)
        d["bnbias"] = d["hpreact"].sum(0, keepdim=True)
        d["hprebn"] = batchnorm_backward(d["hpreact"], f["bnraw"], p["bngain"], f["bnvar_inv"])
        d["W1"] = f["embcat"].T @ d["hprebn"]
        d["b1"] = d["hprebn"].sum(0)
        d["C"] = self._embedding_backward(Xb, (d["hprebn"] @ p["W1"].T).view(f["emb"].shape))
        return d

    def _embedding_backward(self, Xb: torch.Tensor, demb: torch.Tensor) -> torch.Tensor:
        """C[Xb] copied rows of C; each row's gradient is the sum over every place it was copied to."""
        C = self.params["C"]
        return torch.zeros_like(C).index_add_(0, Xb.reshape(-1), demb.reshape(-1, C.shape[1]))

    @torch.no_grad()
    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """Evaluation-mode logits (B, V): BatchNorm uses the running statistics."""
        p = self.params
        hprebn = p["C"][X].view(len(X), -1) @ p["W1"] + p["b1"]
        bnraw = (hprebn - self.running_mean) * (self.running_var + EPS) ** -0.5
        h = torch.tanh(p["bngain"] * bnraw + p["bnbias"])
        return h @ p["W2"] + p["b2"]

    @torch.no_grad()
    def update_running_stats(self, f: dict[str, torch.Tensor]) -> None:
        B = len(f["hprebn"])
        self.running_mean.lerp_(f["bnmeani"], MOMENTUM)
        self.running_var.lerp_(f["bnvar"] * B / (B - 1), MOMENTUM)  # unbiased, as torch.nn.BatchNorm1d


def cross_entropy_backward(logits: torch.Tensor, Yb: torch.Tensor) -> torch.Tensor:
    """d mean(-log softmax(logits)[y]) / d logits = (softmax(logits) - one_hot(y)) / B."""
    dlogits = torch.softmax(logits, dim=1)
    dlogits[torch.arange(len(Yb)), Yb] -= 1.0
    return dlogits / len(Yb)


def batchnorm_backward(
    dout: torch.Tensor, xhat: torch.Tensor, gain: torch.Tensor, var_inv: torch.Tensor
) -> torch.Tensor:
    """d loss / d x for out = gain * xhat + bias, xhat = (x - mean) * var_inv, with the biased batch variance.

    Every x moves the mean and the variance, so each input's gradient also depends on the whole
    batch: dx = gain * var_inv / B * (B * dout - sum(dout) - xhat * sum(dout * xhat)).
    """
    B = len(dout)
    return gain * var_inv / B * (B * dout - dout.sum(0) - xhat * (dout * xhat).sum(0))


def manual_step(model: ManualMLP):
    """A training step for makemore.training.train: forward, fused manual backward, SGD; no autograd."""

    @torch.no_grad()
    def train_step(Xb: torch.Tensor, Yb: torch.Tensor, lr: float) -> float:
        f = model.forward(Xb, Yb)
        grads = model.backward_fused(Xb, Yb, f)
        for name, param in model.params.items():
            param -= lr * grads[name]
        model.update_running_stats(f)
        return f["loss"].item()

    return train_step


def gradient_check(model: ManualMLP, Xb: torch.Tensor, Yb: torch.Tensor) -> dict[str, tuple[float, float]]:
    """Max abs difference to autograd for every tensor: {name: (atomic backward, fused backward or nan)}."""
    params = {k: v.clone().requires_grad_() for k, v in model.params.items()}
    saved, model.params = model.params, params
    try:
        f = model.forward(Xb, Yb)
        for name, t in f.items():
            if name != "loss":
                t.retain_grad()  # autograd frees intermediate grads unless asked to keep them
        f["loss"].backward()
        with torch.no_grad():
            atomic = model.backward(Xb, Yb, f)
            fused = model.backward_fused(Xb, Yb, f)
        reference = {**{k: t.grad for k, t in f.items() if k != "loss"}, **{k: t.grad for k, t in params.items()}}
        nan = float("nan")
        return {
            name: (
                (atomic[name] - ref).abs().max().item(),
                (fused[name] - ref).abs().max().item() if name in fused else nan,
            )
            for name, ref in reference.items()
        }
    finally:
        model.params = saved


if __name__ == "__main__":
    from makemore.data import Vocab, build_windows, load_words

    words = load_words("names")
    vocab = Vocab.from_words(words)
    X, Y = build_windows(words, vocab, block_size=3)
    g = torch.Generator().manual_seed(42)
    model = ManualMLP(len(vocab), 3, n_embd=10, n_hidden=200, generator=g)
    ix = torch.randint(0, len(X), (32,), generator=g)
    diffs = gradient_check(model, X[ix], Y[ix])
    print("max |manual - autograd| per tensor, float32, batch 32 (- : the fused backward skips it)")
    print(f"{'tensor':<16}{'atomic':>10}{'fused':>10}")
    intermediates = [name for name in model.forward(X[:2], Y[:2]) if name != "loss"][::-1]  # backward order
    for name in intermediates + list(model.params):
        atomic, fused = diffs[name]
        print(f"{name:<16}{atomic:>10.1e}{'-' if math.isnan(fused) else f'{fused:.1e}':>10}")
    print(f"largest: {max(max(a, 0 if math.isnan(f) else f) for a, f in diffs.values()):.1e}")

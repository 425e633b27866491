"""The moons MLP and loss written again in PyTorch (float64, vectorized), from a micrograd MLP's weights."""

import torch


def torch_layers(mlp):
    """[(W (nout, nin), b (nout,))] leaf tensors holding the same numbers as mlp's layers."""
    layers = []
    for layer in mlp.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        layers.append((W, b))
    return layers


def torch_forward(layers, X):
    """X (N, nin) -> scores (N,): ReLU between layers, linear at the end."""
    h = X
    for i, (W, b) in enumerate(layers):
        h = h @ W.T + b
        if i < len(layers) - 1:
            h = torch.relu(h)
    return h[:, 0]


def torch_svm_loss(layers, X, y, alpha=1e-4):
    scores = torch_forward(layers, X)
    data_loss = torch.relu(1 - y * scores).mean()
    reg_loss = alpha * sum((W**2).sum() + (b**2).sum() for W, b in layers)
    return data_loss + reg_loss


def torch_grads(layers):
    """Gradients flattened in micrograd's parameter order: each neuron's weights, then its bias."""
    out = []
    for W, b in layers:
        for j in range(W.shape[0]):
            out += W.grad[j].tolist() + [b.grad[j].item()]
    return out

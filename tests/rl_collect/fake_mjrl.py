"""Classes with mjrl's module and class names, to write policy pickles as mjrl does.

Pickling them with the plain pickle module reproduces the published files' structure:
torch modules whose storages are pickled through `torch.storage._load_from_bytes`.
"""

import pickle
import sys
import types

import numpy as np
import torch


def mjrl_policy_pickle(layer_sizes=(5, 4, 3), seed=0, with_transformations=True) -> tuple[bytes, dict]:
    """A pickle laid out like an mjrl MLP policy, and the arrays it holds."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    network_module = types.ModuleType("mjrl.utils.fc_network")
    policy_module = types.ModuleType("mjrl.policies.gaussian_mlp")

    class FCNetwork(torch.nn.Module):
        pass

    class MLP:
        pass

    FCNetwork.__module__, FCNetwork.__qualname__ = "mjrl.utils.fc_network", "FCNetwork"
    MLP.__module__, MLP.__qualname__ = "mjrl.policies.gaussian_mlp", "MLP"
    network_module.FCNetwork, policy_module.MLP = FCNetwork, MLP
    modules = {
        "mjrl": types.ModuleType("mjrl"),
        "mjrl.utils": types.ModuleType("mjrl.utils"),
        "mjrl.policies": types.ModuleType("mjrl.policies"),
        "mjrl.utils.fc_network": network_module,
        "mjrl.policies.gaussian_mlp": policy_module,
    }
    sys.modules.update(modules)
    try:
        network = FCNetwork()
        network.fc_layers = torch.nn.ModuleList(
            [torch.nn.Linear(a, b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]
        )
        network.nonlinearity = torch.tanh
        expected = {
            "weights": [layer.weight.detach().numpy().astype(np.float64) for layer in network.fc_layers],
            "biases": [layer.bias.detach().numpy().astype(np.float64) for layer in network.fc_layers],
        }
        if with_transformations:
            for name, size in (("in_shift", layer_sizes[0]), ("in_scale", layer_sizes[0])):
                setattr(network, name, rng.uniform(0.5, 1.5, size))
            for name, size in (("out_shift", layer_sizes[-1]), ("out_scale", layer_sizes[-1])):
                setattr(network, name, rng.uniform(0.5, 1.5, size))
        else:
            network.in_shift, network.in_scale = np.zeros(layer_sizes[0]), np.ones(layer_sizes[0])
            network.out_shift, network.out_scale = np.zeros(layer_sizes[-1]), np.ones(layer_sizes[-1])
        for name in ("in_shift", "in_scale", "out_shift", "out_scale"):
            expected[name] = getattr(network, name)
        policy = MLP()
        policy.model = network
        policy.log_std = torch.nn.Parameter(torch.full((layer_sizes[-1],), -1.5))
        expected["log_std"] = np.full(layer_sizes[-1], -1.5)
        return pickle.dumps(policy, protocol=3), expected
    finally:
        for name in modules:
            del sys.modules[name]

"""Experts, rollouts and demo collection."""

from samg.rl_collect.collect import CollectConfig, CollectProgress, PublishedExpertFactory, collect
from samg.rl_collect.experts import DapgExpert, Expert, fetch_expert, import_expert, load_expert
from samg.rl_collect.rollout import EpisodeRollout, render_episode, rollout_episode

__all__ = [
    "CollectConfig",
    "CollectProgress",
    "DapgExpert",
    "EpisodeRollout",
    "Expert",
    "PublishedExpertFactory",
    "collect",
    "fetch_expert",
    "import_expert",
    "load_expert",
    "render_episode",
    "rollout_episode",
]

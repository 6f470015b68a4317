"""Checkpoint selection by closed-loop success: after every validation pass, a few live
episodes in the training setting with the policy as it is.

Validation loss is measured on the expert's own states, so it cannot see a policy that drifts
off them and fails: on hammer, 10 epochs halved the validation loss and cut success from 54%
to 32% (docs/results.md). The score ranks epochs by successes, then by the lower validation
loss: `successes - loss / (1 + loss)`, whose second term lies in (-1, 0].
"""

from dataclasses import replace

import pytorch_lightning as pl
import torch

from samg.envs import FrameRenderer, get_task, make_env
from samg.envs.proprio import ProprioReader
from samg.il.config import BCConfig
from samg.il.live_segmenter import live_segmenter_config
from samg.il.rollout import EpisodeJob, run_episodes

SELECTION_SEED_START = 2_000_000  # disjoint from demo seeds (0, 1, ...) and evaluation seeds (1,000,000 on)
SELECTION_MONITOR = "val/selection"


def selection_score(successes: int, val_loss: float) -> float:
    return float(successes) - val_loss / (1.0 + val_loss)


class ClosedLoopSelection(pl.Callback):
    """Logs `val/success` (rate) and `val/selection` (the score above) after each validation."""

    def __init__(self, config: BCConfig, task: str, image_size: int, reader: ProprioReader | None):
        self.config, self.task, self.image_size, self.reader = config, get_task(task), image_size, reader
        self.seeds = tuple(range(SELECTION_SEED_START, SELECTION_SEED_START + config.select_episodes))
        self._loss_sum = 0.0
        self._count = 0
        self._envs = self._renderer = self._segmenter = None

    def on_validation_epoch_start(self, trainer, module) -> None:
        self._loss_sum, self._count = 0.0, 0

    def on_validation_batch_end(self, trainer, module, outputs, batch, batch_index, dataloader_idx=0) -> None:
        count = len(batch["action"])
        self._loss_sum += float(outputs) * count
        self._count += count

    def on_validation_epoch_end(self, trainer, module) -> None:
        if trainer.sanity_checking:
            return
        successes = sum(result.success for result in self.rollouts(module))
        val_loss = self._loss_sum / max(self._count, 1)
        module.log("val/success", successes / len(self.seeds))
        module.log(SELECTION_MONITOR, selection_score(successes, val_loss))

    def rollouts(self, policy) -> list:
        if self._envs is None:
            self._open(policy.device)
        jobs = [EpisodeJob(self.config.setting, seed) for seed in self.seeds]
        threads = torch.get_num_threads()
        try:
            return run_episodes(
                policy, self._envs, self._renderer, self._segmenter, jobs, self.config.frame_stack,
                proprio_reader=self.reader,
            )  # fmt: skip
        finally:
            torch.set_num_threads(threads)

    def _open(self, device) -> None:
        from samg.segmenter.factory import SegmenterConfig, make_segmenter

        self._envs = [make_env(self.task) for _ in self.seeds]
        self._renderer = FrameRenderer(self.task, self._envs[0].model, self.image_size)
        config = live_segmenter_config(self.config, None, SegmenterConfig.prompts_root)
        self._segmenter = make_segmenter(self.task.name, replace(config, device=str(device)))

    def teardown(self, trainer, module, stage: str) -> None:
        for closable in [self._renderer, *(self._envs or [])]:
            if closable is not None:
                closable.close()
        self._envs = self._renderer = self._segmenter = None

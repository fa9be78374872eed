"""verl's custom reward function, at a stable file path.

verl loads ``reward.custom_reward_function.path`` as a file; this one re-exports mathif's
entry points so configs need not point into site-packages:

    reward.custom_reward_function.path=examples/verl/mathif_reward.py
    reward.custom_reward_function.name=compute_score          # verl's naive reward manager
    # or name=compute_score_batch with the batch reward manager (one grading batch per step)

(``mathif/rewards.py`` itself is loadable by path too.)
"""

from mathif.rewards import compute_score, compute_score_batch

__all__ = ["compute_score", "compute_score_batch"]

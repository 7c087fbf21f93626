"""Running the trials of one lockstep method in cache-sized blocks (matrix sensing, SubGM).

A method that rereads its trial's operator every step (an (R, m, n1*n2) sensing operator) is
memory-bound once R operators spill a core's L2 cache; running consecutive blocks of trials,
each block all its iterations, keeps a block's operators cached.  Every batched operation treats
the trials one by one, so the joined result is bitwise that of the all-trials run.
"""
from __future__ import annotations

from array_api_compat import array_namespace

from problems.sensing import cache_block_trials

from .recording import Recording


def in_trial_blocks(run, A, per_trial, target, trials_per_block, **options) -> Recording:
    """``run(A, *per_trial, target, **options)`` over consecutive blocks of trials, joined.

    Trials are independent and every batched operation treats them one by one, so a block's
    result is bitwise the rows of the all-trials result; a block only changes which operators
    the loop rereads at each step (problems.sensing.cache_block_trials sizes them).  A
    shared operator (leading axis 1) and a target without the trial axis go to every block.
    """
    xp = array_namespace(A, target, *per_trial)
    trials = per_trial[0].shape[0]
    size = trials_per_block or cache_block_trials(A, trials)
    if size >= trials:
        return run(A, *per_trial, target, **options)
    iterate_ndim = per_trial[-1].ndim
    own_operator = A.shape[0] == trials
    own_target = target.ndim == iterate_ndim and target.shape[0] == trials

    def rows(x, lo):          # the stop stays in range: the array API does not clip slices
        return x[lo:min(lo + size, trials), ...]

    parts = [run(rows(A, lo) if own_operator else A, *(rows(x, lo) for x in per_trial),
                 rows(target, lo) if own_target else target, **options)
             for lo in range(0, trials, size)]
    return join_trials(xp, parts)


def join_trials(xp, parts) -> Recording:
    """One Recording from the Recordings of consecutive trial blocks (concatenated on the device
    along the trial axis; the recorded iterations are the same in every block)."""
    def join(arrays):
        return xp.concat(list(arrays), axis=0)

    first = parts[0]
    calls = first.calls if isinstance(first.calls, list) else join(p.calls for p in parts)
    metrics = {k: join(p.metrics[k] for p in parts) for k in first.metrics}
    state = {k: join(p.state[k] for p in parts) for k in first.state}
    return Recording(list(first.iterations), calls, metrics, state)

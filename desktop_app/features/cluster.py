"""Feature extraction on a Dask distributed cluster (``actionlens extract --cluster tcp://HOST:8786``).

The workers of an existing Dask cluster run the encoder, one clip per task; this process (the
client) is the store's only writer, as in a local run: it holds the store's writer lock, writes
the feature rows, thumbnails and bad-clip marks in clip order, and a run that is stopped resumes
from the store's ``done.index`` like any other. Workers read the videos themselves, so they must
see them at the same absolute paths as the client (``docs/cluster.md``).

Tasks are submitted in a bounded window (a few per worker thread) and consumed in clip order, so
a million clips are never a million futures, the scheduler's memory stays flat, and a cancel or a
Ctrl-C loses at most the window (cancelled on the scheduler before the client leaves).

``dask.distributed`` is an optional dependency (``pip install 'actionlens[cluster]'``); it is
imported only here, and only when a cluster is asked for.
"""

from __future__ import annotations

import concurrent.futures
import uuid
from collections import deque
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

from desktop_app.errors import ActionLensError
from desktop_app.progress import Progress

if TYPE_CHECKING:
    from distributed import Client, Future

    from desktop_app.features.jobs import ClipJob, ClipResult

#: Tasks in flight (or finished, waiting for an earlier clip) per worker thread.
TASKS_PER_THREAD = 4
#: Seconds between checks of the cancel flag while waiting for a clip.
POLL_SECONDS = 0.5


def _one_line(err: BaseException, limit: int = 200) -> str:
    """An exception's message on one line (Dask's span several), cut to ``limit`` characters."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as err:
        raise ActionLensError(
            f"--cluster needs Dask distributed, which is not installed ({err}); "
            "install it with: pip install 'actionlens[cluster]'"
        ) from err
    return distributed


def connect(address: str, timeout: float = 10.0) -> Client:
    """A Dask client of the scheduler at ``address``, once it has at least one worker.

    Parameters
    ----------
    address
        The scheduler's address, e.g. ``tcp://10.0.0.5:8786`` (what ``dask scheduler`` prints).
    timeout
        Seconds to wait for the scheduler, and then for its first worker.

    Raises
    ------
    ActionLensError
        When ``distributed`` is not installed, the address is malformed, the scheduler cannot be
        reached, or it has no worker within ``timeout``; one line saying what to do.
    """
    distributed = _import_distributed()
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except ValueError as err:
        raise ActionLensError(
            f"--cluster {address!r} is not a scheduler address ({_one_line(err)}); give it as tcp://HOST:8786"
        ) from None
    except (OSError, TimeoutError) as err:
        raise ActionLensError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({_one_line(err)}); start one "
            "with `dask scheduler` and point `dask worker` processes at it (docs/cluster.md)"
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise ActionLensError(
            f"the Dask scheduler at {address} has no workers after {timeout:g} s; start some with "
            f"`dask worker {address}` on machines that see the workspace's videos (docs/cluster.md)"
        ) from None
    return client


def worker_environment() -> dict[str, str]:
    """Versions that decide a clip's features: a worker must match the client's exactly."""
    import cv2
    import numpy as np

    import desktop_app

    return {"actionlens": desktop_app.__version__, "opencv": cv2.__version__, "numpy": np.__version__}


def encode_on_worker(
    job: ClipJob, spec: dict[str, Any], thumbnails: bool, expected: dict[str, str]
) -> ClipResult:
    """The task a worker runs for one clip: check its environment, then encode the clip.

    Raises
    ------
    ActionLensError
        When the worker's ActionLens, OpenCV or NumPy differs from the client's: its features
        could differ from a local run's.
    """
    import socket

    import cv2

    from desktop_app.features.jobs import encode_job

    found = worker_environment()
    if found != expected:
        differ = ", ".join(
            f"{k} {found.get(k)} (client: {v})" for k, v in expected.items() if found.get(k) != v
        )
        raise ActionLensError(
            f"the Dask worker on {socket.gethostname()} runs {differ}; install the client's "
            "versions on every worker so their features match a local run's"
        )
    cv2.setNumThreads(1)  # the worker's threads already run clips side by side
    return encode_job(job, spec, thumbnails)


def run_on_cluster(
    client: Client,
    jobs: Iterable[ClipJob],
    spec: dict[str, Any],
    thumbnails: bool,
    progress: Progress,
    window: int | None = None,
) -> Generator[tuple[ClipJob, ClipResult], None, None]:
    """Encode ``jobs`` on the cluster's workers, yielding ``(job, result)`` in the jobs' order.

    Parameters
    ----------
    client
        From :func:`connect`.
    jobs
        Clips to encode, in the order their results are wanted (clip order).
    spec
        The encoder's settings, as recorded in the store.
    thumbnails
        Also return each clip's thumbnail JPEGs.
    progress
        Checked for cancellation between results; cancelling (or Ctrl-C) cancels the tasks in
        flight on the scheduler.
    window
        Tasks submitted but not yet yielded (default: :data:`TASKS_PER_THREAD` per worker thread
        of the cluster now, at least 8): the back-pressure that keeps a million clips from
        becoming a million futures.

    Raises
    ------
    ActionLensError
        When a task fails on a worker (the message names the clip), a worker dies on a clip more
        often than the scheduler allows, or a worker's versions differ from the client's.
    """
    distributed = _import_distributed()
    if window is None:
        window = max(8, TASKS_PER_THREAD * sum(client.nthreads().values()))
    expected = worker_environment()
    run_token = uuid.uuid4().hex[:8]
    pending: deque[tuple[Future, ClipJob]] = deque()
    queue = iter(jobs)
    try:
        while True:
            while len(pending) < window:
                queued = next(queue, None)
                if queued is None:
                    break
                future = client.submit(
                    encode_on_worker,
                    queued,
                    spec,
                    thumbnails,
                    expected,
                    key=f"actionlens-extract-{queued.clip_id}-{run_token}",  # readable in the dashboard
                )
                pending.append((future, queued))
            if not pending:
                return
            head, job = pending[0]
            try:
                result = head.result(timeout=POLL_SECONDS)
            except TimeoutError:
                progress.check_cancelled()
                continue
            except ActionLensError:
                raise
            except distributed.KilledWorker as err:
                raise ActionLensError(
                    f"clip {job.name}: Dask workers died while encoding {job.path} ({_one_line(err)}); run "
                    "`actionlens extract` on it locally to see why, then again with --cluster to resume"
                ) from None
            except (concurrent.futures.CancelledError, distributed.comm.CommClosedError) as err:
                # the scheduler went away (the client cancels its futures, or a gather fails)
                raise ActionLensError(
                    f"lost the Dask scheduler while clip {job.name} was in flight ({_one_line(err)}); "
                    "the clips before it are in the store: once the scheduler and its workers are back, run the same "
                    "command again to resume"
                ) from None
            except Exception as err:  # a worker's own failure, re-raised here by Dask
                raise ActionLensError(
                    f"clip {job.name}: the Dask worker failed on {job.path} ({type(err).__name__}: "
                    f"{_one_line(err)}); check that ActionLens is installed on every worker"
                ) from None
            pending.popleft()
            yield job, result
    finally:
        # cancelled, interrupted or failed: drop the window on the scheduler; redone next time
        if pending:
            client.cancel([f for f, _ in pending])

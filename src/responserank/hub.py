"""Hugging Face hub ids checked against the local cache before a library reaches for the network.

Asked for a repository that is neither cached nor reachable, transformers and datasets retry the
hub for about a minute and end in a long ``OSError``. :func:`require_available` answers within
seconds instead, on one line naming the id and the ways out: a local path exists -> fine; a hub id
in the local cache (``HF_HUB_CACHE``; for datasets also the ``datasets`` cache) -> fine; otherwise
:class:`~responserank.errors.HubUnavailableError` when the hub is switched off
(``HF_HUB_OFFLINE=1``), when it does not answer within :data:`PROBE_TIMEOUT_S`, or when it answers
that the repository is gated or unknown. A reachable hub with an accessible repository is left to
the library (it downloads as usual).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from responserank.errors import HubUnavailableError, ResponseRankError

#: ``name`` or ``org/name`` as the hub spells repository ids.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
#: Seconds to wait for the hub's answer before calling it unreachable.
PROBE_TIMEOUT_S = 5.0
_TRUE = {"1", "on", "yes", "true"}
LOGIN_HINT = "log in first (`hf auth login` or HF_TOKEN) for gated or private repositories"
#: Ways out for the training data of a run.
DATASET_WAYS_OUT = (
    "dataset.path=<local copy> (`rr-fixtures DIR --comparisons 300` writes a generated "
    "MultiPref in the hub layout to try things)"
)
#: Ways out for a hub dataset read by any source or suite with a ``path`` option.
LOCAL_COPY_WAYS_OUT = "a local copy through the source's path option (dataset.path=<copy>, or eval.suites.<i>.path=<copy> for a suite)"


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` switches the hub off (read now, not at import time)."""
    from huggingface_hub import is_offline_mode

    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE or is_offline_mode()


def hub_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def is_cached(repo_id: str, repo_type: str) -> bool:
    """Whether a snapshot of ``repo_id`` is in the local hub cache (datasets: or the datasets
    cache, which ``datasets.load_dataset`` reads offline)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        snapshot_download(repo_id, repo_type=repo_type, local_files_only=True)
        return True
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError):
        pass
    if repo_type == "dataset":
        from datasets import config

        return (Path(config.HF_DATASETS_CACHE) / repo_id.replace("/", "___")).is_dir()
    return False


def unreachable_reason(endpoint: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """None when ``endpoint`` answers an HTTP request within ``timeout_s``, else why not."""
    from huggingface_hub import get_session

    try:
        get_session().head(endpoint, timeout=timeout_s)
    except Exception as error:  # any transport failure means: not reachable from here
        return str(error) or type(error).__name__
    return None


def _access_problem(repo_id: str, repo_type: str) -> str | None:
    """What the hub says against fetching ``repo_id`` (gated, unknown), or None."""
    from huggingface_hub import auth_check
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        auth_check(repo_id, repo_type=repo_type)
    except GatedRepoError:
        page = f"{hub_endpoint()}/{'datasets/' if repo_type == 'dataset' else ''}{repo_id}"
        return f"is gated: accept its terms on {page}, then log in (`hf auth login` or HF_TOKEN)"
    except RepositoryNotFoundError:
        return (
            "does not exist on the hub (a private one needs a login: `hf auth login` or HF_TOKEN)"
        )
    except Exception:  # anything else (rate limit, server error): let the library try
        return None
    return None


def require_available(
    name: str,
    what: str,
    ways_out: str,
    repo_type: str = "model",
    error: type[ResponseRankError] = HubUnavailableError,
) -> None:
    """Return when ``name`` (a local path or a hub id) can be loaded; raise on one line otherwise.

    Args:
        name: local file or folder, or hub repository id (``org/name``).
        what: what it is, for the message (``model``, ``tokenizer``, ``dataset``, ...).
        ways_out: the options of this entry point, e.g. ``"model=minilm (bundled, offline) or
            model.name_or_path=<local folder>"``; the message adds logging in.
        repo_type: ``model`` or ``dataset`` (where the hub and the caches keep it).
        error: the class raised; data sources raise their own (``DataValidationError``,
            ``BenchmarkDataError``) so that callers catch one kind per layer.

    Raises:
        HubUnavailableError: (or ``error``) not a local path, not cached, and the hub is off,
            unreachable, or refuses the repository.
    """
    if Path(name).expanduser().exists():
        return
    if not HUB_ID.match(name):
        raise error(f"{what} {name!r}: no such local file or folder (and not a hub id); {ways_out}")
    if is_cached(name, repo_type):
        return
    not_cached = f"{what} {name!r} is not in the local Hugging Face cache"
    if hub_offline():
        raise error(
            f"{not_cached} and the hub is switched off (HF_HUB_OFFLINE=1); ways out: {ways_out}, "
            f"or download it once with HF_HUB_OFFLINE unset where the hub is reachable ({LOGIN_HINT})"
        )
    endpoint = hub_endpoint()
    reason = unreachable_reason(endpoint)
    if reason is not None:
        raise error(
            f"{not_cached} and {endpoint} cannot be reached ({reason}); ways out: {ways_out}, "
            f"or download it once where the hub is reachable ({LOGIN_HINT})"
        )
    problem = _access_problem(name, repo_type)
    if problem is not None:
        raise error(f"{what} {name!r} {problem}; or: {ways_out}")

"""Opt-in upload of a saved model folder to the Hugging Face hub (``huggingface_hub.HfApi``).

:func:`upload_manifest` lists exactly the files an upload sends and refuses a folder that is not a
complete, loadable model (card, config or adapter config, weights, tokenizer), so what would go up
can be checked offline; :func:`push_model_folder` creates the repository (private by default) and
uploads those files in one commit. Training calls it when ``export.push_to_hub=true`` (repository
``export.hub_repo_id``); ``python -m responserank.llm.export push`` does it for any folder.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from responserank.errors import HubUploadError
from responserank.hub import hub_offline
from responserank.llm.export.model_card import CARD_NAME

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".safetensors", ".bin")


def upload_manifest(model_dir: str | Path) -> list[str]:
    """Relative paths (sorted, ``/``-separated) of the files an upload of ``model_dir`` sends:
    every file except hidden ones. Raises HubUploadError naming what a loadable folder lacks."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise HubUploadError(f"{model_dir}: not a folder; expected a saved reward model folder")
    files = sorted(
        path.relative_to(model_dir).as_posix()
        for path in model_dir.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(model_dir).parts)
    )
    top = {name for name in files if "/" not in name}
    missing = []
    if CARD_NAME not in top:
        missing.append(f"{CARD_NAME} (the model card)")
    if not top & {"config.json", "adapter_config.json"}:
        missing.append("config.json or adapter_config.json")
    if not any(name.endswith(WEIGHT_SUFFIXES) for name in top):
        missing.append("weights (*.safetensors or *.bin)")
    if not any(name.startswith("tokenizer") for name in top):
        missing.append("tokenizer files")
    if missing:
        raise HubUploadError(f"{model_dir}: cannot upload, the folder lacks {', '.join(missing)}")
    return files


def push_model_folder(
    model_dir: str | Path,
    repo_id: str,
    private: bool = True,
    api: Any = None,
    raise_errors: bool = True,
) -> dict[str, Any]:
    """Upload ``model_dir`` to the model repository ``repo_id`` (created when missing).

    ``api``: an ``HfApi`` (default: a new one, with the token of ``hf auth login`` / HF_TOKEN).
    Returns ``{"repo_id", "files", "commit"}``; a failure raises HubUploadError, or with
    ``raise_errors=False`` is logged and returned as ``{"repo_id", "error"}`` (training keeps its
    saved model whatever the hub says).
    """
    try:
        files = upload_manifest(model_dir)
        if hub_offline():
            raise HubUploadError(
                f"cannot upload {model_dir} to {repo_id}: HF_HUB_OFFLINE=1 switches the hub off"
            )
        if api is None:
            from huggingface_hub import HfApi

            api = HfApi()
        api.create_repo(repo_id, private=private, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id,
            folder_path=str(model_dir),
            allow_patterns=files,
            commit_message=f"Upload reward model {Path(model_dir).resolve().parent.name}",
        )
    except Exception as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if raise_errors:
            if isinstance(error, HubUploadError):
                raise
            raise HubUploadError(f"uploading {model_dir} to {repo_id} failed: {message}") from error
        log.warning("hub upload of %s to %s failed: %s", model_dir, repo_id, message)
        return {"repo_id": repo_id, "error": message}
    return {"repo_id": repo_id, "files": len(files), "commit": getattr(commit, "oid", None)}

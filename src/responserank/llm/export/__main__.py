"""``python -m responserank.llm.export merge|push``: LoRA merge and hub upload of a model folder.

python -m responserank.llm.export merge <adapter folder> <merged folder> [--dtype float32]
python -m responserank.llm.export push <model folder> --repo-id user/name [--public]
python -m responserank.llm.export push <model folder> --dry-run   # list what would go up
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from responserank.cli_errors import exit_on_project_error
from responserank.llm.export.hub import push_model_folder, upload_manifest
from responserank.llm.export.merge import merge_adapter


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m responserank.llm.export", description=__doc__.splitlines()[0]
    )
    commands = main.add_subparsers(dest="command", required=True)
    merge = commands.add_parser("merge", help="fold a LoRA adapter into its base model")
    merge.add_argument("adapter_dir", help="saved adapter folder (adapter_config.json)")
    merge.add_argument("out_dir", help="folder for the merged model")
    merge.add_argument("--dtype", default="auto", help="auto | float32 | bfloat16 | float16")
    merge.add_argument("--force", action="store_true", help="replace a non-empty out_dir")
    push = commands.add_parser("push", help="upload a model folder to the hub")
    push.add_argument("model_dir", help="saved model folder (with README.md)")
    push.add_argument("--repo-id", help="hub model repository (user/name)")
    push.add_argument("--public", action="store_true", help="create the repository public")
    push.add_argument("--dry-run", action="store_true", help="list the files, upload nothing")
    return main


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "push" and not (args.repo_id or args.dry_run):
        parser().error("push needs --repo-id (or --dry-run to list the files)")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with exit_on_project_error():
        if args.command == "merge":
            print(
                f"merged model written to {merge_adapter(args.adapter_dir, args.out_dir, args.dtype, args.force)}"
            )
        elif args.dry_run:
            print("\n".join(upload_manifest(args.model_dir)))
        else:
            result = push_model_folder(args.model_dir, args.repo_id, private=not args.public)
            print(f"uploaded {result['files']} files to {result['repo_id']} ({result['commit']})")


if __name__ == "__main__":
    main()

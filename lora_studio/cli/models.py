"""``python -m lora_studio models list|download|upload|inspect ...``."""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Callable
from typing import Any

from lora_studio.config.catalog import ModelKind
from lora_studio.core.errors import InvalidInput
from lora_studio.core.settings import Settings
from lora_studio.core.types import ModelFamily
from lora_studio.jobs.engine import package_env
from lora_studio.jobs.model import JobSpec
from lora_studio.services import build_services
from lora_studio.services.models import (
    CatalogDownload,
    DownloadRequest,
    HubDownload,
    LocalModel,
    ModelService,
    UrlDownload,
    upload_request,
)

Handler = Callable[[argparse.Namespace, Settings], int]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``models`` area with its sub-commands to the main parser."""
    area = subparsers.add_parser("models", help="model catalog, downloads and local model files")
    commands = area.add_subparsers(dest="models_command", required=True, metavar="COMMAND")

    listing = _command(commands, "list", "local models (or the catalog, or trained LoRAs)", _list)
    what = listing.add_mutually_exclusive_group()
    what.add_argument("--catalog", action="store_true", help="list the download catalog instead")
    what.add_argument("--loras", action="store_true", help="list trained LoRAs in outputs/ instead")
    listing.add_argument("--kind", choices=[kind.value for kind in ModelKind], help="only this kind")
    listing.add_argument(
        "--family", choices=[family.value for family in ModelFamily], help="only this family"
    )
    listing.add_argument(
        "--extra-dir", action="append", default=[], help="also list this folder (repeatable)"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    download = _command(commands, "download", "download a catalog model, a Hub file or a URL", _download)
    source = download.add_mutually_exclusive_group(required=True)
    source.add_argument("catalog_id", nargs="?", help="a catalog id (see `models list --catalog`)")
    source.add_argument("--repo-id", help="a Hub repository, with --filename")
    source.add_argument("--url", help="a direct http(s) link (Civitai links: set CIVITAI_API_TOKEN)")
    download.add_argument("--filename", help="the file in the repository, or the name to save a URL as")
    download.add_argument("--revision", help="Hub branch, tag or commit (default main)")
    download.add_argument("--sha256", help="expected sha256 of a URL download")
    download.add_argument("--kind", choices=[kind.value for kind in ModelKind], default="unknown")
    download.add_argument("--family", choices=[family.value for family in ModelFamily])
    download.add_argument("--token-env", help="environment variable holding a token for a URL download")
    download.add_argument("--detach", action="store_true", help="run it as a background job and print its id")

    upload = _command(commands, "upload", "upload a trained LoRA to a Hub repository you own", _upload)
    upload.add_argument("lora", help="a LoRA in outputs/ (see `models list --loras`), relative or absolute")
    upload.add_argument("repo_id", help="owner/name of the model repository (created if missing)")
    upload.add_argument("--private", action="store_true", help="create the repository as private")
    upload.add_argument("--path-in-repo", help="where the file goes in the repository (default: its name)")
    upload.add_argument("--no-card", action="store_true", help="do not add a README.md model card")
    upload.add_argument("--detach", action="store_true", help="run it as a background job and print its id")

    inspect = _command(
        commands, "inspect", "family, kind and LoRA metadata read from a file's header", _inspect
    )
    inspect.add_argument("path", help="a file in models/ or outputs/, absolute or relative to them")
    inspect.add_argument("--metadata", action="store_true", help="also print every __metadata__ entry")
    inspect.add_argument("--json", action="store_true", help="print JSON instead of text")


def _command(commands: Any, name: str, help_text: str, handler: Handler) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(func=handler)
    return parser


def _list(args: argparse.Namespace, settings: Settings) -> int:
    service = ModelService(settings, extra_dirs=args.extra_dir)
    if args.catalog:
        entries = service.catalog.filter(
            family=ModelFamily(args.family) if args.family else None,
            kind=ModelKind(args.kind) if args.kind else None,
        )
        if args.json:
            print(json.dumps([entry.model_dump(mode="json") for entry in entries], indent=2))
            return 0
        for entry in entries:
            gated = "  [gated]" if entry.gated else ""
            size = f"{entry.size_gb:.2f} GB" if entry.size_gb else "?"
            print(f"{entry.id:24} {entry.kind.value:10} {size:>9}  {entry.repo_id}/{entry.filename}{gated}")
        return 0
    models = (
        service.list_loras()
        if args.loras
        else service.list_models(
            kind=ModelKind(args.kind) if args.kind else None,
            family=ModelFamily(args.family) if args.family else None,
        )
    )
    usage = service.usage(models) if not args.loras else {}
    if args.json:
        print(json.dumps([_model_json(model, usage.get(model.path, [])) for model in models], indent=2))
        return 0
    if not models:
        print(f"No model files in {', '.join(str(root) for root in service.roots)}.")
    for model in models:
        family = model.family.value if model.family else "-"
        used = f"  used by: {', '.join(usage[model.path])}" if usage.get(model.path) else ""
        print(f"{model.kind.value:10} {family:5} {model.size_bytes / 1e9:8.2f} GB  {model.relative}{used}")
        if model.error:
            print(f"{'':27}! {model.error}")
    return 0


def _download(args: argparse.Namespace, settings: Settings) -> int:
    service = ModelService(settings)
    request = _request(args)
    token = settings.env.get(args.token_env) if args.token_env else None
    spec = service.download_spec(request, token=token)
    return _run(spec, settings, detach=args.detach)


def _upload(args: argparse.Namespace, settings: Settings) -> int:
    request = upload_request(
        args.lora,
        args.repo_id,
        path_in_repo=args.path_in_repo,
        private=args.private,
        model_card=not args.no_card,
    )
    spec = ModelService(settings).upload_spec(request)
    return _run(spec, settings, detach=args.detach)


def _run(spec: JobSpec, settings: Settings, *, detach: bool) -> int:
    """Run a job's command here (its output on this terminal), or submit it as a background job."""
    if detach:
        record = build_services(settings, reconcile=False).jobs.submit(spec)
        print(
            f"started job {record.id}: {spec.title}  (follow: python -m lora_studio jobs logs -f {record.id})"
        )
        return 0
    print(spec.title, flush=True)
    return subprocess.run(list(spec.argv), env=package_env(spec.env), check=False).returncode


def _request(args: argparse.Namespace) -> DownloadRequest:
    kind, family = ModelKind(args.kind), ModelFamily(args.family) if args.family else None
    if args.catalog_id:
        return CatalogDownload(entry_id=args.catalog_id)
    if args.repo_id:
        if not args.filename:
            raise InvalidInput("--repo-id needs --filename (the file inside the repository).")
        return HubDownload(
            repo_id=args.repo_id, filename=args.filename, revision=args.revision, kind=kind, family=family
        )
    return UrlDownload(url=args.url, filename=args.filename, sha256=args.sha256, kind=kind, family=family)


def _inspect(args: argparse.Namespace, settings: Settings) -> int:
    model = ModelService(settings).inspect(args.path)
    if args.json:
        print(json.dumps(_model_json(model, [], metadata=args.metadata), indent=2))
        return 0
    print(f"file:       {model.path}")
    print(f"size:       {model.size_bytes / 1e9:.3f} GB")
    print(f"detected:   {model.detection.label}")
    for detail in model.detection.details:
        print(f"            {detail}")
    if model.error:
        print(f"problem:    {model.error}")
        return 1
    print(f"dtype:      {model.dtype}    parameters: {model.parameters:,}")
    if model.lora is not None:
        lora = model.lora
        print(f"base model: {lora.base_model or '?'} ({lora.base_model_version or lora.architecture or '?'})")
        print(f"network:    {lora.network_module or '?'}  dim {lora.network_dim}  alpha {lora.network_alpha}")
        print(
            f"training:   {lora.steps} steps, epoch {lora.epoch}/{lora.num_epochs}, lr {lora.learning_rate}"
        )
        tags = ", ".join(f"{tag} ({count})" for tag, count in lora.top_tags(15))
        print(f"top tags:   {tags or '-'}")
    if args.metadata:
        from lora_studio.services.models.safetensors_header import read_header

        for key, value in sorted(read_header(model.path).metadata.items()):
            print(f"  {key} = {value if len(value) <= 200 else value[:200] + '…'}")
    return 0


def _model_json(model: LocalModel, used_by: list[str], *, metadata: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": str(model.path),
        "relative": model.relative,
        "kind": model.kind.value,
        "family": model.family.value if model.family else None,
        "variant": model.detection.variant,
        "size_bytes": model.size_bytes,
        "dtype": model.dtype,
        "parameters": model.parameters,
        "error": model.error,
        "used_by": used_by,
    }
    if model.lora is not None:
        lora = model.lora
        data["lora"] = {
            "base_model": lora.base_model,
            "base_model_version": lora.base_model_version,
            "network_module": lora.network_module,
            "dim": lora.network_dim,
            "alpha": lora.network_alpha,
            "steps": lora.steps,
            "epoch": lora.epoch,
            "top_tags": lora.top_tags(20),
        }
    if metadata:
        from lora_studio.services.models.safetensors_header import read_header

        data["metadata"] = read_header(model.path).metadata
    return data

"""The HTTP interface of the scoring server (FastAPI).

``POST /get_reward``  ``{"query": ["<full text>", ...]}`` -> ``{"rewards": [...], "truncated": [...]}``
    (the request and answer of OpenRLHF's remote reward model; ``truncated`` is added).
``POST /score``  ``{"conversations": [{"prompt": <messages or text>, "response": <messages or
    text>}, ...]}`` -> the same answer; messages are ``{"role": str, "content": str}`` objects, a
    plain string stands for one user (prompt) or assistant (response) message.
``GET /health``  status, settings, reward statistics and counters.

Every refused request gets a 4xx and ``{"error": "<one line>"}``: 400 malformed JSON, 413 a body,
a list or an input over its limit, 422 a missing field, a wrong type, an empty list, an unknown
top-level key, a non-finite number (``NaN``, ``Infinity``) or a message role other than
system, user or assistant. An error
while scoring answers 500 with one line; the server keeps serving.
"""

from __future__ import annotations

import json
import logging
import math
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from responserank.errors import RequestRejected
from responserank.llm.serve.service import RewardService, Scored

LOG = logging.getLogger(__name__)
ROLES = ("system", "user", "assistant")


def _kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def _non_finite(text: str) -> float:
    raise RequestRejected(422, f"non-finite number {text} in the JSON body; numbers must be finite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _non_finite(text)
    return value


async def read_object(
    request: Request, max_bytes: int, keys: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The request body as a JSON object with only ``keys`` at its top level (any when None);
    RequestRejected 413 / 400 / 422 otherwise (422 also for NaN, Infinity or an overflowing
    number anywhere in the body)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestRejected(413, f"the body has {declared} bytes; the limit is {max_bytes}")
    body = await request.body()
    if len(body) > max_bytes:
        raise RequestRejected(413, f"the body has {len(body)} bytes; the limit is {max_bytes}")
    try:
        value = json.loads(body, parse_constant=_non_finite, parse_float=_finite_float)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestRejected(400, f"malformed JSON: {str(error).splitlines()[0]}") from error
    if not isinstance(value, dict):
        raise RequestRejected(422, f"expected a JSON object, got a {_kind(value)}")
    unknown = sorted(set(value) - set(keys)) if keys is not None else []
    if unknown and all(key in value for key in keys or ()):  # a missing field is named first
        raise RequestRejected(
            422, f"unknown key(s) {unknown}; this endpoint takes {list(keys or ())}"
        )
    return value


def read_list(body: dict[str, Any], key: str, limit: int, what: str) -> list[Any]:
    """``body[key]`` as a non-empty list of at most ``limit`` items."""
    if key not in body:
        raise RequestRejected(422, f"missing field '{key}': expected a non-empty list of {what}")
    items = body[key]
    if not isinstance(items, list):
        raise RequestRejected(422, f"'{key}' must be a list of {what}, got a {_kind(items)}")
    if not items:
        raise RequestRejected(422, f"'{key}' is empty: expected at least one item")
    if len(items) > limit:
        raise RequestRejected(413, f"'{key}' has {len(items)} items; the limit is {limit}")
    return items


def read_texts(body: dict[str, Any], limit: int) -> list[str]:
    texts = read_list(body, "query", limit, "strings")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise RequestRejected(422, f"'query[{i}]' must be a string, got a {_kind(text)}")
        if not text:
            raise RequestRejected(422, f"'query[{i}]' is an empty string")
    return texts


def read_messages(value: Any, where: str, default_role: str) -> list[dict[str, str]]:
    """Messages of one side of a conversation; a string is one ``default_role`` message."""
    if isinstance(value, str):
        value = [{"role": default_role, "content": value}]
    if not isinstance(value, list) or not value:
        raise RequestRejected(
            422, f"'{where}' must be a string or a non-empty list of messages, got {_kind(value)}"
        )
    messages = []
    for j, message in enumerate(value):
        if not isinstance(message, dict):
            raise RequestRejected(422, f"'{where}[{j}]' must be an object with role and content")
        for key in ("role", "content"):
            if not isinstance(message.get(key), str):
                got = _kind(message.get(key)) if key in message else "nothing"
                raise RequestRejected(422, f"'{where}[{j}].{key}' must be a string, got {got}")
        if message["role"] not in ROLES:
            raise RequestRejected(
                422,
                f"'{where}[{j}].role' must be one of {list(ROLES)}, got {message['role']!r}",
            )
        messages.append({"role": message["role"], "content": message["content"]})
    return messages


def read_conversations(body: dict[str, Any], limit: int) -> tuple[list, list]:
    items = read_list(body, "conversations", limit, "{prompt, response} objects")
    prompts, responses = [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise RequestRejected(
                422, f"'conversations[{i}]' must be an object, got a {_kind(item)}"
            )
        for key in ("prompt", "response"):
            if key not in item:
                raise RequestRejected(422, f"'conversations[{i}]' has no '{key}'")
        prompts.append(read_messages(item["prompt"], f"conversations[{i}].prompt", "user"))
        responses.append(
            read_messages(item["response"], f"conversations[{i}].response", "assistant")
        )
    return prompts, responses


def _answer(scored: Scored) -> dict[str, Any]:
    return {"rewards": scored.rewards, "truncated": scored.truncated}


def create_app(service: RewardService) -> FastAPI:
    """The FastAPI application around a loaded :class:`RewardService`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await service.batcher.start()
        yield
        await service.batcher.stop()

    app = FastAPI(title="responserank reward model", lifespan=lifespan)
    settings = service.settings

    @app.exception_handler(RequestRejected)
    async def rejected(request: Request, error: RequestRejected) -> JSONResponse:
        return JSONResponse({"error": error.reason}, status_code=error.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code)

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> JSONResponse:
        LOG.exception("scoring failed")
        line = str(error).splitlines()[0] if str(error) else ""
        return JSONResponse(
            {"error": f"internal error: {type(error).__name__}: {line}"}, status_code=500
        )

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return service.health()

    @app.post("/get_reward")
    async def get_reward(request: Request) -> dict[str, Any]:
        body = await read_object(request, settings.max_body_bytes, ("query",))
        texts = read_texts(body, settings.max_request_texts)
        return _answer(await service.score(service.transcripts(texts), "query"))

    @app.post("/score")
    async def score(request: Request) -> dict[str, Any]:
        body = await read_object(request, settings.max_body_bytes, ("conversations",))
        prompts, responses = read_conversations(body, settings.max_request_texts)
        encoder = service.conversations(prompts, responses)
        return _answer(await service.score(encoder, "conversations"))

    return app

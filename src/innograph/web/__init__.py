"""The web app: ``create_app(settings)`` wires the SPARQL blueprint, HTTP policies and the one
error handler. Nothing here reads the environment; the CLI passes settings in."""

from __future__ import annotations

import atexit
import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import InnographError
from ..query.workers import ServerBusy
from ..settings import Settings
from . import (
    cite,
    compare,
    conformance,
    dataset,
    http,
    pages,
    queries,
    rendering,
    resources,
    sparql,
    throttle,
    waves,
)
from .runtime import Runtime

log = logging.getLogger(__name__)

TOO_LONG_LINE = "the request line is too long; POST the query instead"


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__)
    # Werkzeug answers "//" in a path with an absolute 308 built from the Host header, which a
    # client chooses: no such redirect; the path is matched as it is (and is not found).
    app.url_map.merge_slashes = False
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
        TRUSTED_HOST_NAMES=frozenset(map(http.host_name, settings.trusted_host_list)),
    )
    runtime = Runtime(settings)
    app.extensions["innograph"] = runtime
    atexit.register(runtime.close)
    app.jinja_env.globals["drawn_bar"] = rendering.drawn_bar
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(resources.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(dataset.blueprint)
    app.register_blueprint(queries.blueprint)
    app.register_blueprint(conformance.blueprint)
    app.register_blueprint(waves.blueprint)
    app.register_blueprint(compare.blueprint)
    app.register_blueprint(cite.blueprint)
    app.add_url_rule("/-/ping", "ping", ping)
    http.init_app(app)
    throttle.init_app(app, settings)
    app.register_error_handler(InnographError, _innograph_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.wsgi_app = sparql.answered_first(app.wsgi_app, runtime)  # type: ignore[method-assign,assignment]
    return app


def ping() -> Response:
    return Response(
        "ok\n", content_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


def _json_error(status: int, message: str) -> Response:
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _innograph_error(error: InnographError) -> Response:
    response = _json_error(error.http_status, error.public_message)
    if isinstance(error, ServerBusy):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    messages = {
        413: "the request body is larger than the server accepts",
        414: TOO_LONG_LINE,
        405: f"{request.method} is not allowed here",
        404: f"{request.path} is not here",
    }
    response = _json_error(status, messages.get(status, error.description or error.name))
    for name, value in error.get_headers():
        if name == "Allow":
            response.headers["Allow"] = value
    return response


def _unexpected_error(error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return _json_error(500, "internal error; it has been logged")

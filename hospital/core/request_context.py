"""Who is asking, from where: carried from the request (or a Celery task) to the access log."""

import contextvars
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    channel: str = "system"  # web, api, task, command, system


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "hospital_request_context", default=None
)


def current_request_context() -> RequestContext:
    return _current.get() or RequestContext()


def set_request_context(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def reset_request_context(token: contextvars.Token) -> None:
    _current.reset(token)

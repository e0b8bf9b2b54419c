"""Bot API error values and the JSON shape Telegram uses for them."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    """An error answer of the Bot API; raised by methods, rendered by the server."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters
        self.http_status = http_status or error_code

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(HTTPStatus.FORBIDDEN, f"Forbidden: {detail}")


def conflict(detail: str) -> ApiError:
    return ApiError(HTTPStatus.CONFLICT, f"Conflict: {detail}")


def unauthorized() -> ApiError:
    return ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized")


def not_found(detail: str | None = None) -> ApiError:
    return ApiError(HTTPStatus.NOT_FOUND, f"Not Found: {detail}" if detail else "Not Found")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        HTTPStatus.TOO_MANY_REQUESTS,
        f"Too Many Requests: retry after {retry_after}",
        parameters={"retry_after": retry_after},
    )


def internal_error(detail: str) -> ApiError:
    return ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"Internal Server Error: {detail}")


# Telegram's standard wording for the common per-code injected failures.
DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    429: "Too Many Requests: retry after 1",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

"""Domain errors raised by services; hub.web maps them to HTTP in one place."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    title = "Requête invalide"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Invalid(DomainError):
    status_code = 400
    title = "Données invalides"


class Unauthorized(DomainError):
    status_code = 401
    title = "Connexion requise"


class Forbidden(DomainError):
    status_code = 403
    title = "Accès refusé"


class NotFound(DomainError):
    status_code = 404
    title = "Introuvable"


class Unprocessable(DomainError):
    """Well-formed, but nothing can be done with it (an address that cannot be found)."""

    status_code = 422
    title = "Données inexploitables"


class Conflict(DomainError):
    status_code = 409
    title = "Conflit"


class Gone(DomainError):
    status_code = 410
    title = "Lien expiré"


class Unavailable(DomainError):
    """The database stayed busy through every retry: try again shortly (503 with Retry-After)."""

    status_code = 503
    title = "Service momentanément indisponible"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyRequests(DomainError):
    status_code = 429
    title = "Trop de tentatives"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

"""Settings: one dataclass built from the environment, passed to create_app()."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about its environment (see README, "Configuration")."""

    env: str = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str = "smtp://127.0.0.1:1025"
    mail_from: str = "Maillage <ne-pas-repondre@maillage.localhost>"
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_max_failures: int = 5
    login_window_minutes: int = 15
    invitation_days: int = 7
    reset_hours: int = 2
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    run_jobs_in_process: bool = True
    jobs_interval_seconds: float = 15.0
    log_level: str = "INFO"
    debug: bool = False
    # Each module's own section (a frozen dataclass with from_env), found by its type: settings.section(T)
    sections: tuple[Any, ...] = ()
    # Sign-in: past this many failures on one account (from every source), each try waits twice as long
    # as the previous one, up to login_max_delay_seconds (login_max_failures locks one account and source).
    login_slowdown_after: int = 10
    login_max_delay_seconds: int = 60
    # Argon2 checks at once, in worker threads (64 MiB and 4 lanes each); from_env: half the processors
    password_hash_threads: int = 1
    api_tokens_max: int = 10  # live API tokens per user
    # /readyz: how long the database's write (rolled back) may wait, e.g. for a write lock held elsewhere
    ready_timeout_seconds: float = 2.0
    # SQLite: how long a write waits for the lock before "database is locked" (then retried, then a 503)
    sqlite_busy_timeout_seconds: float = 10.0
    # The public "join the network" form: accepted requests per source (address) per hour
    join_max_per_hour: int = 5

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    def section(self, kind: type[T]) -> T:
        """A module's settings section; its defaults when none was given (settings built by hand in tests)."""
        for section in self.sections:
            if isinstance(section, kind):
                return section
        return kind()

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, sections: Iterable[Any] = (), **overrides: object
    ) -> Settings:
        """Read MAILLAGE_* and DATABASE_URL, and each module's section; fill the embedded defaults under var/."""
        env = os.environ if environ is None else environ
        var_dir = Path(env.get("MAILLAGE_VAR_DIR", str(PROJECT_ROOT / "var")))
        values: dict[str, object] = {
            "env": env.get("MAILLAGE_ENV", "development"),
            "var_dir": var_dir,
            "database_url": env.get("DATABASE_URL", "") or f"sqlite:///{var_dir / 'maillage.sqlite3'}",
            "secret_key": env.get("MAILLAGE_SECRET_KEY", ""),
            "base_url": env.get("MAILLAGE_BASE_URL", cls.base_url).rstrip("/"),
            "smtp_url": env.get("MAILLAGE_SMTP_URL", cls.smtp_url),
            "mail_from": env.get("MAILLAGE_MAIL_FROM", cls.mail_from),
            "session_idle_minutes": int(env.get("MAILLAGE_SESSION_IDLE_MINUTES", cls.session_idle_minutes)),
            "login_max_failures": int(env.get("MAILLAGE_LOGIN_MAX_FAILURES", cls.login_max_failures)),
            "run_jobs_in_process": env.get("MAILLAGE_RUN_JOBS", "1") not in ("0", "false", "no"),
            "jobs_interval_seconds": float(env.get("MAILLAGE_JOBS_INTERVAL", cls.jobs_interval_seconds)),
            "log_level": env.get("MAILLAGE_LOG_LEVEL", cls.log_level),
            "debug": env.get("MAILLAGE_DEBUG", "0") in ("1", "true", "yes"),
            "sections": tuple(section.from_env(env) for section in sections),
            "login_slowdown_after": int(env.get("MAILLAGE_LOGIN_SLOWDOWN_AFTER", cls.login_slowdown_after)),
            "login_max_delay_seconds": int(env.get("MAILLAGE_LOGIN_MAX_DELAY", cls.login_max_delay_seconds)),
            "password_hash_threads": int(env.get("MAILLAGE_PASSWORD_HASH_THREADS", max(1, (os.cpu_count() or 2) // 2))),
            "api_tokens_max": int(env.get("MAILLAGE_API_TOKENS_MAX", cls.api_tokens_max)),
            "ready_timeout_seconds": float(env.get("MAILLAGE_READY_TIMEOUT", cls.ready_timeout_seconds)),
            "sqlite_busy_timeout_seconds": float(
                env.get("MAILLAGE_SQLITE_BUSY_TIMEOUT", cls.sqlite_busy_timeout_seconds)
            ),
            "join_max_per_hour": int(env.get("MAILLAGE_JOIN_MAX_PER_HOUR", cls.join_max_per_hour)),
        }
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        if not settings.secret_key:
            settings = dataclasses.replace(settings, secret_key=load_or_create_secret(settings.var_dir))
        return settings


def load_or_create_secret(var_dir: Path) -> str:
    """The embedded default keeps one generated key under var/, readable by its owner only."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key

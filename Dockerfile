# Maillage: the app behind a proxy, for compose.yaml (PostgreSQL + mail catcher) or any container host.
# Settings come from the environment (see hub/settings.py): DATABASE_URL, MAILLAGE_SECRET_KEY,
# MAILLAGE_BASE_URL, MAILLAGE_SMTP_URL... Files (generated documents, keys) live in MAILLAGE_VAR_DIR.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MAILLAGE_ENV=production \
    MAILLAGE_VAR_DIR=/var/lib/maillage

RUN groupadd --system --gid 10001 maillage \
 && useradd --system --uid 10001 --gid maillage --home-dir /app --no-create-home --shell /usr/sbin/nologin maillage

# LibreOffice (headless Writer, python3-uno) and sans-serif fonts: the PDFs handed to residents.
COPY scripts/install-libreoffice /usr/local/sbin/install-libreoffice
RUN /usr/local/sbin/install-libreoffice && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The project root holds templates/ and static/ beside the packages (hub.settings.PROJECT_ROOT), so the
# project is installed in place (editable, no dev extras) rather than copied into site-packages.
COPY . /app
RUN pip install --editable . \
 && python -m compileall -q hub network referrals \
 && mkdir -p "$MAILLAGE_VAR_DIR" \
 && chown maillage:maillage "$MAILLAGE_VAR_DIR"

USER maillage
VOLUME ["/var/lib/maillage"]
EXPOSE 8000

# Readiness (/readyz): the database takes a write (rolled back) and the var directory a file; /healthz is liveness.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"]

# Migrate first (idempotent), then run the command: by default the server, trusting X-Forwarded-* from
# FORWARDED_ALLOW_IPS (uvicorn's variable; 127.0.0.1 unless set). `docker compose run app maillage jobs run --once`
# goes through the same migration step.
ENTRYPOINT ["/bin/sh", "-c", "maillage db migrate && exec \"$@\"", "--"]
# --workers: one process per core (MAILLAGE_WORKERS, default 2 here); each runs the jobs loop unless MAILLAGE_RUN_JOBS=0.
CMD ["maillage", "serve", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]

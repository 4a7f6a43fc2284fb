# syntax=docker/dockerfile:1
# One production image for every application service of docker-compose.yml: web (gunicorn, the default
# command), Celery worker, Celery beat and the one-shot migrate. Secrets come from the environment at run
# time, never from the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HOSPITAL_MODE=production \
    HOSPITAL_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media

# gettext: compilemessages turns the translations into .mo files at build time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The pinned dependencies, read from pyproject.toml the way the Makefile reads them (without the dev extra).
# Copied alone first so the layer is reused until pyproject.toml changes.
COPY pyproject.toml ./
RUN python -m venv "$VIRTUAL_ENV" \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# Build-time placeholders only: production settings refuse to import without secrets, and collectstatic
# needs the production storage (hashed, compressed files). These values live in this RUN step alone.
RUN export SECRET_KEY=build-only-placeholder BLIND_INDEX_KEY=build-only-placeholder \
        FIELD_ENCRYPTION_KEYS="1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" \
        DATABASE_URL=postgres://build@127.0.0.1:1/build REDIS_URL=redis://127.0.0.1:1/0 \
    && python manage.py collectstatic --noinput \
    && if find locale -name '*.po' | grep -q .; then python manage.py compilemessages --ignore=.venv; fi

# Never run as root: the application user owns only what it writes (var/ and media/).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /app/var /app/media /srv/static \
    && chown -R app:app /app/var /app/media /srv/static
USER app:app

EXPOSE 8000
CMD ["gunicorn", "hospital.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--access-logfile", "-", "--timeout", "120", "--graceful-timeout", "20"]

# syntax=docker/dockerfile:1
# Production image: gunicorn serving the API, static files by whitenoise, running as a
# non-root user. Build: `docker build -t api .`; run: see docker-compose.yml and the README.
# Pinned to a patch release; move it deliberately, like requirements.txt.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PORT=8000

# A fixed numeric id, so orchestrators can verify "not root" (Kubernetes' runAsNonRoot).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so that code changes reuse this layer. Runtime requirements only.
COPY requirements.txt .
RUN pip install -r requirements.txt

# The code stays owned by root: the app user can read it but not change it.
COPY . .

# Hashed, compressed static files for whitenoise. The key only lets settings load for this
# step; it is not kept in the image (the running container must be given its own).
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    python manage.py collectstatic --no-input

USER 10001:10001
EXPOSE 8000

# Liveness only: a database outage must not get a healthy process restarted.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "config.healthcheck"]

# Waits for the database, migrates, seeds the superuser, then execs the CMD.
ENTRYPOINT ["/app/scripts/entrypoint.sh"]
CMD ["gunicorn", "--config", "gunicorn.conf.py"]

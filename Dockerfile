# The latam_airlines REST API: `docker build -t latam-api .`, then mount a model artifact:
#   docker run --rm -p 127.0.0.1:8000:8000 -v "$PWD/models:/models:ro" latam-api
# EXTRAS picks the setup.py extras installed (compose.yaml builds the mlflow and airflow images
# from this file too): mlflow serves models:/ URIs, redis shares serving state across replicas.
FROM python:3.12-slim

# libgomp1: the OpenMP runtime XGBoost/LightGBM need; nothing else from apt.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LATAM_MODEL_PATH=/models/model.joblib \
    LATAM_WORKERS=1 \
    LATAM_PORT=8000

ARG EXTRAS=mlflow,redis

WORKDIR /app
# Runtime dependencies and the serving extras (no test/dev extras).
COPY setup.py README.md params.yaml ./
COPY latam_airlines ./latam_airlines
# This package (a local path) with its extras: the version bounds live in setup.py.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[${EXTRAS}]" \
    && useradd --create-home --uid 10001 latam

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['LATAM_PORT'] + '/health', timeout=2)"]

# Inside the container the API listens on every interface; publish it on 127.0.0.1 of the host.
# Workers: LATAM_WORKERS (e.g. -e LATAM_WORKERS=2); model: LATAM_MODEL_PATH; Redis: LATAM_REDIS_URL.
CMD ["sh", "-c", "exec latam serve --host 0.0.0.0 --port \"$LATAM_PORT\""]

# memberbot: one image for `serve` (N workers) and `scheduler`; deploy/compose.yml runs both
# beside PostgreSQL. Configuration comes from config.yml in the image (mount another and
# set MEMBERBOT_CONFIG to change it) and secrets from the environment only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    XDG_CACHE_HOME=/srv/memberbot/cache \
    MEMBERBOT_CONFIG=/srv/memberbot/config.yml \
    PROMETHEUS_MULTIPROC_DIR=/tmp/memberbot-metrics

WORKDIR /srv/memberbot
RUN useradd --system --home-dir /srv/memberbot memberbot

COPY pyproject.toml README.md config.yml ./
COPY core ./core
COPY storage ./storage
COPY nlu ./nlu
COPY handlers ./handlers
COPY bot ./bot
COPY schedules ./schedules
COPY staff ./staff
COPY app ./app
RUN pip install . \
    && memberbot nlu train \
    && chown -R memberbot /srv/memberbot

USER memberbot
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["memberbot", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]

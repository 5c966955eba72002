# unstuck as a container: `unstuck serve` on python:3.11-slim, as a non-root user.
#   docker build -t unstuck .
#   docker run --env-file unstuck.env -p 3000:3000 unstuck          # HTTP (or Socket Mode with SLACK_APP_TOKEN)
# SQLite (the default) keeps its file in the /data volume; for several replicas set UNSTUCK_DB to a
# postgresql:// URL (README, "Deploy").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Only what the package needs (see .dockerignore): no tests, no virtualenv, no local databases.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install . \
    && useradd --system --create-home --uid 10001 unstuck \
    && mkdir /data && chown unstuck: /data

USER unstuck
WORKDIR /data
ENV UNSTUCK_DB=/data/unstuck.db \
    PORT=3000
VOLUME ["/data"]
EXPOSE 3000
CMD ["unstuck", "serve"]

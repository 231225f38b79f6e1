# Production image: the app only; PostgreSQL/PostGIS and the object store are separate services
# (see docker-compose.yml).

# The web portal's bundle, built from its lock file; only portal/dist goes into the app image.
FROM node:20-bookworm-slim AS portal
WORKDIR /portal
COPY portal/package.json portal/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY portal/index.html portal/vite.config.ts portal/tsconfig.json ./
COPY portal/src ./src
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libmagic1: evidence uploads are type-sniffed with python-magic.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmagic1 \
    && rm -rf /var/lib/apt/lists/*

# The code stays in /app and runs from there: `python -m app.manage` finds alembic.ini and
# migrations/ next to the app package. Files stay root-owned, so the app cannot rewrite itself.
WORKDIR /app
COPY . .
COPY --from=portal /portal/dist portal/dist
ENV PIL_PORTAL_DIST_DIR=/app/portal/dist
RUN pip install . && chmod 0755 scripts/docker-entrypoint

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin pil
USER pil

EXPOSE 8000
CMD ["scripts/docker-entrypoint"]
